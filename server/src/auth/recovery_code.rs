//! Recovery codes: Haven collects no e-mail address, so a student who forgets their password
//! gets back in with the one-time code shown at registration (docs/decisions.md).
//!
//! A code is 20 symbols of Crockford's base32 (100 random bits), shown in groups of four.
//! Typing is forgiving: case, spaces and dashes do not matter, and the letters people
//! confuse with digits (O, I, L) read as those digits. Only an argon2 hash is stored.

use std::fmt;

/// Crockford's base32: digits and letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code: 5 bits each, 100 bits in all.
const SYMBOLS: usize = 20;
const GROUP: usize = 4;

/// A recovery code in its canonical form (20 symbols, no separators). Its `Debug` never
/// shows the code, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        let code = (0..SYMBOLS)
            .map(|_| char::from(ALPHABET[usize::from(rand::random::<u8>() % 32)]))
            .collect();
        Self(code)
    }

    /// Reads a code as a person typed it, or `None` if it cannot be one.
    pub fn parse(typed: &str) -> Option<Self> {
        let mut code = String::with_capacity(SYMBOLS);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            code.push(c);
        }
        (code.len() == SYMBOLS).then_some(Self(code))
    }

    /// The canonical form, which is what gets hashed.
    pub fn canonical(&self) -> &str {
        &self.0
    }
}

/// Groups of four, as shown to the person: `7K3M-Q9XD-…`.
impl fmt::Display for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.as_bytes().chunks(GROUP).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_code_reads_back_however_it_is_typed() {
        let code = RecoveryCode::generate();
        let shown = code.to_string();
        assert_eq!(shown.len(), SYMBOLS + SYMBOLS / GROUP - 1);
        assert_eq!(RecoveryCode::parse(&shown), Some(code.clone()));
        let sloppy = format!(" {} ", shown.to_lowercase().replace('-', " "));
        assert_eq!(RecoveryCode::parse(&sloppy), Some(code));
    }

    #[test]
    fn look_alike_letters_read_as_digits() {
        let typed = "OIL0-1234-5678-9ABC-DEFG";
        assert_eq!(
            RecoveryCode::parse(typed).unwrap().canonical(),
            "0110123456789ABCDEFG"
        );
    }

    #[test]
    fn anything_else_is_not_a_code() {
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01",
            "ABCD-EFGH-JKMN-PQRS-TVWU",
            "ÄBCD-EFGH-JKMN-PQRS-TVWX",
        ] {
            assert_eq!(RecoveryCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_code() {
        let code = RecoveryCode::generate();
        assert!(!format!("{code:?}").contains(code.canonical()));
    }

    #[test]
    fn codes_differ() {
        assert_ne!(RecoveryCode::generate(), RecoveryCode::generate());
    }
}
