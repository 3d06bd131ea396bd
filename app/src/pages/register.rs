//! `/register`: a student creates their account.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::auth::Register;
use crate::components::action_form::ActionForm;
use crate::components::{
    auth_card::AuthCard,
    field::{live_form, NewPasswordField, TextField},
    form_error::{field_message, form_level, FormError},
};
use crate::error::Field;
use crate::validation::{self, USERNAME_MAX, USERNAME_MIN};

/// The registration page.
#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <Title text="Create your account · Haven"/>
        <AuthCard heading="Create your student account">
            <p class="lede">"Only the psychiatrists you write to will see your display name and messages."</p>
            <RegisterForm/>
            <div class="aside">
                <p>"Already have an account? " <A href="/login/student" attr:class="link">"Sign in"</A></p>
            </div>
        </AuthCard>
    }
}

/// The registration form. In the browser each field is checked once it has been left; the
/// server checks everything again and its messages show next to the same fields.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn RegisterForm() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let server_error = move || action.value().get().and_then(Result::err);

    // A field shows the browser's own check once touched, otherwise the server's answer.
    let field = move |value, touched, check, which| {
        field_message(value, touched, check, which, server_error)
    };
    let username = RwSignal::new(String::new());
    let username_touched = RwSignal::new(false);
    let display_name = RwSignal::new(String::new());
    let display_name_touched = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let password_touched = RwSignal::new(false);

    let form_error = form_level(server_error);

    view! {
        // Once live, Haven's own field messages speak; the browser's bubble
        // would cover them (before that, native validation is all there is).
        <ActionForm action=action attr:novalidate=live_form()>
            <TextField
                label="Username"
                name="username"
                autocomplete="username"
                hint="Letters, digits, '.', '_' or '-'; used to sign in."
                minlength=USERNAME_MIN
                maxlength=USERNAME_MAX
                pattern="[A-Za-z0-9._\\-]+"
                value=username
                touched=username_touched
                error=field(username, username_touched, validation::check_username, Field::Username)
            />
            <TextField
                label="Display name"
                name="display_name"
                autocomplete="nickname"
                hint="What the psychiatrist will call you. A first name or a nickname is fine."
                maxlength=validation::DISPLAY_NAME_MAX
                value=display_name
                touched=display_name_touched
                error=field(display_name, display_name_touched, validation::check_display_name, Field::DisplayName)
            />
            <NewPasswordField label="Password" value=password touched=password_touched error=field(password, password_touched, validation::check_password, Field::Password)/>
            <FormError message=form_error/>
            <button type="submit" class="button" disabled=move || action.pending().get()>
                "Create account"
            </button>
        </ActionForm>
    }
}
