//! `/recover`: a student who forgot their password sets a new one with their recovery code.
//! Haven keeps no e-mail address to send a link to (docs/decisions.md).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::auth::Recover;
use crate::components::action_form::ActionForm;
use crate::components::{
    auth_card::AuthCard,
    field::{live_form, NewPasswordField, TextField},
    form_error::{field_message, form_level, FormError},
    shared_computer::SharedComputerBox,
};
use crate::error::Field;
use crate::validation;

/// The recovery page.
#[component]
pub fn RecoverPage() -> impl IntoView {
    view! {
        <Title text="Forgot your password · Haven"/>
        <AuthCard heading="Set a new password">
            <p class="lede">
                "Use the recovery code you saved when you created your account. "
                "Everywhere you are still signed in will be signed out."
            </p>
            <RecoverForm/>
            <div class="aside">
                <p>"No recovery code? The service's administrator can reset your password."</p>
                <p>"Remembered it? " <A href="/login/student" attr:class="link">"Sign in"</A></p>
            </div>
        </AuthCard>
    }
}

/// The recovery form. Works as a plain form post before hydration; the new password is
/// checked in the browser once the field is left, and again by the server.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn RecoverForm() -> impl IntoView {
    let action = ServerAction::<Recover>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let server_field = move |which: Field| {
        Signal::derive(move || server_error().and_then(|e| e.field_message(which)))
    };
    let password = RwSignal::new(String::new());
    let password_touched = RwSignal::new(false);
    let password_error = field_message(
        password,
        password_touched,
        validation::check_password,
        Field::Password,
        server_error,
    );
    let form_error = form_level(server_error);
    view! {
        <ActionForm action=action attr:novalidate=live_form()>
            <TextField label="Username" name="username" autocomplete="username"
                error=server_field(Field::Username)/>
            <TextField
                label="Recovery code"
                name="recovery_code"
                autocomplete="off"
                hint="20 letters and digits; dashes and spaces do not matter."
                error=server_field(Field::RecoveryCode)
            />
            <NewPasswordField label="New password" value=password touched=password_touched error=password_error/>
            <SharedComputerBox/>
            <FormError message=form_error/>
            <button type="submit" class="button" disabled=move || action.pending().get()>
                "Set new password"
            </button>
        </ActionForm>
    }
}
