//! The after-hours notice as text and links: Haven writes it with "call <number> (<name>)"
//! for each urgent crisis line and "/help" for the full list (`care::Care::closed` on the
//! server). Shown as plain text, a student at 2 a.m. would copy a number by hand; here the
//! numbers become `tel:` links and the help page and web addresses ordinary links. Only
//! notices go through this: a person's message is never turned into links.

/// A piece of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `text` shown, `href` followed (`tel:…`, `/help`, `https://…`).
    Link {
        text: String,
        href: String,
    },
}

/// Splits a notice into text and links.
pub fn pieces(body: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        let (link, skipped) = match link_at(rest) {
            Some(found) => found,
            None => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
        };
        // What precedes the link in the same match ("call ") stays text.
        text.push_str(&rest[..skipped.0]);
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        out.push(link);
        rest = &rest[skipped.1..];
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// A link at the start of `rest`: the link, where its text starts and where it ends (bytes).
fn link_at(rest: &str) -> Option<(Piece, (usize, usize))> {
    const CALL: &str = "call ";
    if let Some(after) = rest.strip_prefix(CALL) {
        // "call 116 123 (Samaritans)": the number is the run of phone characters, without
        // the space and parenthesis that open the name.
        let run = after
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-')))
            .unwrap_or(after.len());
        let number = after[..run].trim_end();
        let digits: String = number
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        if number.chars().filter(char::is_ascii_digit).count() >= 2 {
            let link = Piece::Link {
                text: number.to_owned(),
                href: format!("tel:{digits}"),
            };
            return Some((link, (CALL.len(), CALL.len() + number.len())));
        }
    }
    if rest.starts_with("https://") {
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ';' | ','))
            .unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches('.');
        let link = Piece::Link {
            text: url.to_owned(),
            href: url.to_owned(),
        };
        return Some((link, (0, url.len())));
    }
    const HELP: &str = "/help";
    if rest.starts_with(HELP) && !rest[HELP.len()..].starts_with(|c: char| c.is_alphanumeric()) {
        let link = Piece::Link {
            text: "every crisis line and its hours".into(),
            href: HELP.into(),
        };
        return Some((link, (0, HELP.len())));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str, href: &str) -> Piece {
        Piece::Link {
            text: text.into(),
            href: href.into(),
        }
    }

    #[test]
    fn crisis_numbers_and_the_help_page_become_links() {
        let notice = "Your psychiatrist is outside their office hours. If you cannot wait, or \
                      you are in danger now: call 999 (Emergency services); call 116 123 \
                      (Samaritans); Text SHOUT to 85258 (Shout); Nightline at \
                      https://nightline.example. Every crisis line and its hours: /help";
        let got = pieces(notice);
        let links: Vec<&Piece> = got
            .iter()
            .filter(|p| matches!(p, Piece::Link { .. }))
            .collect();
        assert_eq!(
            links,
            [
                &link("999", "tel:999"),
                &link("116 123", "tel:116123"),
                &link("https://nightline.example", "https://nightline.example"),
                &link("every crisis line and its hours", "/help"),
            ]
        );
        // Nothing is lost or reordered: the pieces read as the notice, with the help link
        // worded for people.
        let text: String = got
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::Link { href, text } if href == "/help" => {
                    assert_eq!(text, "every crisis line and its hours");
                    "/help"
                }
                Piece::Link { text, .. } => text.as_str(),
            })
            .collect();
        assert_eq!(text, notice);
        assert!(matches!(&got[0], Piece::Text(t) if t.ends_with("now: call ")));
    }

    #[test]
    fn text_without_numbers_stays_text() {
        assert_eq!(
            pieces("call them later; /helpful"),
            [Piece::Text("call them later; /helpful".into())]
        );
        assert_eq!(
            pieces("call +44 20 7946 0000 (Line)"),
            [
                Piece::Text("call ".into()),
                link("+44 20 7946 0000", "tel:+442079460000"),
                Piece::Text(" (Line)".into()),
            ]
        );
    }
}
