//! The Socket.IO handshake accepts only a valid session from the site's own origin.

mod common;

use common::{SocketOutcome, TestServer};

fn refused_with(outcome: SocketOutcome, reason: &str) -> bool {
    matches!(outcome, SocketOutcome::Refused(message) if message.contains(reason))
}

#[tokio::test]
async fn socket_needs_a_valid_session() {
    let server = TestServer::start().await;
    let cookie = server.register_student("socketeer").await;

    assert_eq!(
        server.socket(&[("Cookie", &cookie)]).await,
        SocketOutcome::Connected
    );

    assert!(
        refused_with(server.socket(&[]).await, "unauthenticated"),
        "no cookie"
    );
    assert!(
        refused_with(
            server
                .socket(&[("Cookie", "haven_session=forged-session-id")])
                .await,
            "unauthenticated"
        ),
        "forged cookie"
    );

    let host = server.base.trim_start_matches("http://").to_owned();
    let own_origin = format!("http://{host}");
    assert_eq!(
        server
            .socket(&[("Cookie", &cookie), ("Origin", &own_origin)])
            .await,
        SocketOutcome::Connected,
        "the site's own origin"
    );
    assert!(
        refused_with(
            server
                .socket(&[("Cookie", &cookie), ("Origin", "http://evil.example")])
                .await,
            "forbidden origin"
        ),
        "a foreign origin"
    );

    assert_eq!(server.logout(&cookie).await, 204);
    assert!(
        refused_with(
            server.socket(&[("Cookie", &cookie)]).await,
            "unauthenticated"
        ),
        "after logout"
    );
}
