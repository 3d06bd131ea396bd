//! Haven's server as a library: the service ([`serve`]), its domain (`chat`, `auth`,
//! `care`), the coordination port and its adapters (`realtime`, `cluster`, `store`), and
//! the admin command line. The `haven` binary only parses flags and calls [`cli::run`].
//!
//! ```no_run
//! # async fn run(config: server::config::Config) -> Result<(), server::ServeError> {
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! server::serve(listener, config, server::shutdown_signal()).await
//! # }
//! ```

pub mod auth;
pub mod care;
pub mod chat;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod coordination;
pub mod demo;
pub mod metrics;
pub mod privacy;
pub mod push;
pub mod realtime;
pub mod report;
pub mod security;
pub mod state;
pub mod store;
pub mod web;

pub use web::{serve, shutdown_signal, ServeError};
