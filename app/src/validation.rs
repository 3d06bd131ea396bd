//! Account rules, checked in the browser for quick feedback and again on the server, which
//! never trusts the browser.

/// Shortest accepted username.
pub const USERNAME_MIN: usize = 3;
/// Longest accepted username.
pub const USERNAME_MAX: usize = 32;
/// Shortest accepted password (characters, not bytes).
pub const PASSWORD_MIN: usize = 10;
/// Longest accepted password: bounds the hashing work one request can ask for.
pub const PASSWORD_MAX: usize = 256;
/// Longest accepted display name.
pub const DISPLAY_NAME_MAX: usize = 64;

/// Normalizes line breaks to `\n`: a browser submits a textarea's line breaks as `\r\n`,
/// and a lone `\r` (old Mac text) is a line break too. Nothing else changes.
pub fn normalize_line_breaks(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('\r') {
        std::borrow::Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

/// The first character that free text (a message, a bio) may not hold: every control
/// character (Unicode category Cc: U+0000–U+001F, U+007F, U+0080–U+009F) except the line
/// feed and the tab. NUL cannot be stored by PostgreSQL's `text` at all; the others are
/// invisible, can drive terminals and logs (escape sequences), and no one types them.
/// Line breaks are normalized first ([`normalize_line_breaks`]).
pub fn refused_in_text(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
}

/// What to show for a refused character: its code point (it is invisible).
pub fn describe_refused(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Normalizes a username for storage and lookup: usernames are case-insensitive, so they are
/// kept in lowercase (see docs/decisions.md).
pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Checks a (normalized or raw) username; the message is shown next to the field.
pub fn check_username(raw: &str) -> Result<(), String> {
    let name = raw.trim();
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(format!(
            "Usernames are {USERNAME_MIN} to {USERNAME_MAX} characters long."
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("Use only letters, digits, '.', '_' and '-'.".into());
    }
    Ok(())
}

/// Checks a new password.
pub fn check_password(raw: &str) -> Result<(), String> {
    let len = raw.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!(
            "Passwords need at least {PASSWORD_MIN} characters ({} more).",
            PASSWORD_MIN - len
        ));
    }
    if len > PASSWORD_MAX {
        return Err(format!("Passwords are at most {PASSWORD_MAX} characters."));
    }
    Ok(())
}

/// Checks a display name (the name others see).
pub fn check_display_name(raw: &str) -> Result<(), String> {
    check_shown_name(raw, DISPLAY_NAME_MAX, "Display names")
        .map_err(|e| e.unwrap_or_else(|| "Tell us what to call you.".into()))
}

/// Longest accepted alias in a group.
pub const ALIAS_MAX: usize = 32;

/// Checks the alias a student shows in a group: a name like a display name, at most
/// [`ALIAS_MAX`] characters.
pub fn check_alias(raw: &str) -> Result<(), String> {
    check_shown_name(raw, ALIAS_MAX, "Aliases")
        .map_err(|e| e.unwrap_or_else(|| "An alias cannot be empty.".into()))
}

/// Checks a group's name: one line, like a display name, at most 80 characters.
pub fn check_group_name(raw: &str) -> Result<(), String> {
    check_shown_name(raw, 80, "Group names")
        .map_err(|e| e.unwrap_or_else(|| "Give the group a name.".into()))
}

/// A name others see (display name, alias, group name): not blank (`Err(None)`), at most
/// `max` characters, no control or invisible formatting characters, no markup characters.
fn check_shown_name(raw: &str, max: usize, what: &str) -> Result<(), Option<String>> {
    let len = raw.trim().chars().count();
    if len == 0 {
        return Err(None);
    }
    if len > max {
        return Err(Some(format!("{what} are at most {max} characters.")));
    }
    if raw.chars().any(is_invisible_or_control) {
        return Err(Some(format!(
            "{what} cannot contain control or invisible formatting characters."
        )));
    }
    if let Some(c) = raw.chars().find(|c| MARKUP_CHARACTERS.contains(c)) {
        return Err(Some(format!(
            "{what} cannot contain {c}. Use letters, spaces and ordinary punctuation."
        )));
    }
    Ok(())
}

/// Checks a psychiatrist's bio: free text ([`refused_in_text`]).
pub fn check_bio(raw: &str) -> Result<(), String> {
    match refused_in_text(&normalize_line_breaks(raw)) {
        Some(c) => Err(format!(
            "The bio cannot contain control characters ({} found).",
            describe_refused(c)
        )),
        None => Ok(()),
    }
}

/// Characters that mean something in HTML or in a script. Names are always escaped when
/// shown; refusing these as well keeps a name from ever looking like markup anywhere
/// (logs, exports, a future context that forgets to escape). The apostrophe stays allowed:
/// O'Brien is a name, and escaping handles it like any other character.
pub const MARKUP_CHARACTERS: &[char] = &['<', '>', '&', '"', '`'];

/// Control characters, and the invisible ones that change how surrounding text reads:
/// bidirectional overrides and isolates (which can make a name display as another),
/// zero-width spaces, the byte-order mark, line and paragraph separators. Zero-width
/// joiners stay allowed: emoji and several scripts need them.
fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("ab").is_err());
        assert!(check_username("abc").is_ok());
        assert!(check_username("Dr.Rivera_2-x").is_ok());
        assert!(check_username("has space").is_err());
        assert!(check_username("ünï").is_err());
        assert!(check_username(&"a".repeat(33)).is_err());
        assert_eq!(normalize_username("  Alice "), "alice");
    }

    #[test]
    fn display_names_refuse_markup_and_invisible_characters() {
        assert!(check_display_name("Zoë O'Brien-Ngata, Jr.").is_ok());
        assert!(
            check_display_name("👩‍🎓 Kim").is_ok(),
            "emoji with a zero-width joiner"
        );
        for bad in [
            "<img src=x onerror=alert(1)>",
            "a & b",
            "say \"hi\"",
            "`cmd`",
            "line\nbreak",
            "evil\u{202E}gnp.exe",
            "zero\u{200B}width",
        ] {
            assert!(check_display_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn free_text_refuses_control_characters_but_line_feed_and_tab() {
        assert_eq!(refused_in_text("two\nlines\tand a tab, émoji 👩‍🎓"), None);
        for bad in [
            '\0', '\u{1}', '\u{7}', '\u{b}', '\u{c}', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}',
        ] {
            assert_eq!(refused_in_text(&format!("a{bad}b")), Some(bad), "{bad:?}");
        }
        assert_eq!(normalize_line_breaks("a\r\nb\rc\nd"), "a\nb\nc\nd");
        assert_eq!(describe_refused('\0'), "U+0000");
        assert!(check_bio("Adolescent care.\r\nTuesdays at the clinic.").is_ok());
        assert!(check_bio("bell\u{7}").unwrap_err().contains("U+0007"));
    }

    #[test]
    fn passwords_count_characters() {
        assert!(check_password("123456789").is_err());
        assert!(check_password("1234567890").is_ok());
        assert!(check_password("ééééééééé").is_err());
    }
}
