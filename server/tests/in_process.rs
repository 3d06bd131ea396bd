//! Haven started in-process through the library (`server::serve`), as an embedding program
//! or a test would: it serves on the listener it is given, answers, and returns once the
//! shutdown future completes (the other integration tests spawn the `haven` binary, where
//! the process boundary is the point: signals, kill -9, the CLI).

use std::time::Duration;

use clap::Parser;
use server::config::{Config, ServeArgs};

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    args: ServeArgs,
}

#[tokio::test]
async fn serve_runs_on_the_given_listener_and_returns_when_told_to_stop() {
    let site = tempfile::tempdir().expect("a site folder");
    let data = tempfile::tempdir().expect("a data folder");
    let database = match server::store::test_db::on_postgres() {
        true => server::store::test_db::fresh_postgres().await,
        false => format!("sqlite://{}", data.path().join("haven.db").display()),
    };
    let site_root = site.path().display().to_string();
    let Flags { args } = Flags::parse_from(["haven", "--site-root", &site_root]);
    let config = Config::resolve(args, database).expect("settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server::serve(listener, config, async move {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let health = async {
        loop {
            if let Ok(res) = http.get(format!("http://{addr}/healthz")).send().await {
                return res;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let res = tokio::time::timeout(Duration::from_secs(30), health)
        .await
        .expect("serving within 30 s");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("database: ok"));
    let page = http
        .get(format!("http://{addr}/"))
        .send()
        .await
        .expect("the landing page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Haven"));

    stop.send(()).expect("still serving");
    let result = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("stops within 10 s")
        .expect("did not panic");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        http.get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err(),
        "no longer listening"
    );
}
