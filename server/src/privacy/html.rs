//! The export as one self-contained HTML file a student can open and read offline. Every
//! user-written text is escaped; the file carries a policy that runs no script at all.

use std::fmt::Write as _;

use app::protocol::MessageKind;

use crate::chat::export::{Author, Export};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}\
ol{list-style:none;padding:0}li{margin:.75rem 0;padding:.5rem .75rem;border-radius:.5rem;background:#f1f3f5}\
li.you{background:#e3f0ff;margin-left:3rem}li.haven{background:#fff8e1}\
.meta{font-size:.8rem;color:#555}p.body{margin:.25rem 0 0;white-space:pre-wrap}";

/// The whole export as a page, its times in words by `in_words` (the service's time zone:
/// the file runs no script, so it cannot use the reader's).
pub fn render(export: &Export, in_words: impl Fn(app::protocol::Timestamp) -> String) -> String {
    let mut page = String::new();
    let name = escape(&export.account.display_name);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Your Haven conversations</title><style>{STYLE}</style></head><body><main>\
         <h1>Your Haven conversations</h1>\
         <p>{name} (sign-in name {username}), downloaded <time datetime=\"{at}\">{when}</time>.</p>",
        username = escape(&export.account.username),
        at = export.exported_at,
        when = escape(&in_words(export.exported_at)),
    );
    if export.conversations.is_empty() {
        page.push_str("<p>You have no conversations.</p>");
    }
    for conversation in &export.conversations {
        let peer = escape(&conversation.with.display_name);
        match &conversation.group {
            Some(group) => {
                let _ = write!(
                    page,
                    "<section><h2>Group {group}, led by {peer}</h2><ol>",
                    group = escape(group)
                );
            }
            None => {
                let _ = write!(
                    page,
                    "<section><h2>With {peer} ({role})</h2><ol>",
                    role = conversation.with.role
                );
            }
        }
        for line in &conversation.messages {
            // In a group, each line names its author as they showed themselves there.
            let named = line.name.as_deref().map(escape);
            let (class, author) = match line.from {
                Author::You => ("you", "You".to_owned()),
                Author::Them => ("them", named.clone().unwrap_or_else(|| peer.clone())),
                Author::Haven => ("haven", "Automatic notice from Haven".to_owned()),
            };
            let about = named.unwrap_or_default();
            let body = match line.kind {
                MessageKind::Erased => "<em>Deleted with the account.</em>".to_owned(),
                MessageKind::Removed => "<em>Removed by the group's leader.</em>".to_owned(),
                MessageKind::MemberJoined => format!("<em>{about} joined the group.</em>"),
                MessageKind::MemberLeft => format!("<em>{about} left the group.</em>"),
                MessageKind::MemberRemoved => {
                    format!("<em>{about} was removed from the group.</em>")
                }
                MessageKind::GroupClosed => "<em>The leader closed the group.</em>".to_owned(),
                _ => escape(&line.body),
            };
            let _ = write!(
                page,
                "<li class=\"{class}\"><span class=\"meta\">{author} · <time datetime=\"{at}\">{when}</time></span>\
                 <p class=\"body\">{body}</p></li>",
                at = line.at,
                when = escape(&in_words(line.at)),
            );
        }
        page.push_str("</ol></section>");
    }
    page.push_str("</main></body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use app::protocol::{ConversationId, MessageId, Role, Timestamp};

    use super::*;
    use crate::chat::export::{Account, Conversation, Line, Peer};

    #[test]
    fn user_text_cannot_become_markup() {
        let hostile = "<script>alert(1)</script><img src=x onerror=\"alert(2)\">'&";
        let export = Export {
            exported_at: Timestamp::from_millis(0),
            account: Account {
                username: "synthetic".into(),
                display_name: hostile.into(),
            },
            conversations: vec![Conversation {
                id: ConversationId(1),
                with: Peer {
                    display_name: hostile.into(),
                    role: Role::Psychiatrist,
                },
                messages: vec![Line {
                    id: MessageId(1),
                    at: Timestamp::from_millis(0),
                    from: Author::Them,
                    kind: MessageKind::Text,
                    name: Some(hostile.into()),
                    body: hostile.into(),
                }],
                group: Some(hostile.into()),
            }],
        };
        let page = render(&export, |_| "Thursday 1 January 1970, 00:00 (UTC)".into());
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("onerror=&quot;alert(2)&quot;"));
        assert!(page.contains("default-src 'none'"));
        // Everything in a landmark, times in words.
        assert!(page.contains("<body><main>") && page.contains("</main></body>"));
        assert!(page.contains(">Thursday 1 January 1970, 00:00 (UTC)</time>"));
    }
}
