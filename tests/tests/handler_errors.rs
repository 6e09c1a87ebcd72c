//! What a client reads when a handler fails: the message the handler chose, the code and
//! message an application error chose (`HandlerError`), or a generic one when an error
//! converted with `?` (its text is logged, not sent). Written with `switchboard::testing`,
//! as an application's tests would be.

use serde_json::{Value, json};
use switchboard::prelude::*;
use switchboard::protocol::ErrorCode;
use switchboard::testing::{self, TestClient, TestError};
use switchboard::{HandlerError, Running, Switchboard};

/// `leak`: fails with an error whose text must stay on the server.
#[derive(SocketListener, Default, Debug)]
#[event("leak")]
struct Leak;

#[socket_handler]
impl Leak {
    async fn handle(&self, _packet: Packet<Value>) -> Result<(), SocketError> {
        Err(std::io::Error::other(
            "connection to postgres://app:hunter2@db:5432 refused",
        ))?;
        Ok(())
    }
}

/// `full`: fails with a message chosen for the client.
#[derive(SocketListener, Default, Debug)]
#[event("full")]
struct Full;

#[socket_handler]
impl Full {
    async fn handle(&self, _packet: Packet<Value>) -> Result<(), SocketError> {
        Err(SocketError::new("the room is full"))
    }
}

/// An application's own error: one variant words what the client reads, the other
/// keeps its cause on the server.
#[derive(Debug, thiserror::Error)]
enum ReceiptError {
    #[error("receipt {0} not found")]
    NotFound(u64),
    #[error("database: password hunter2 refused")]
    Database,
}

impl HandlerError for ReceiptError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::HandlerError,
            Self::Database => ErrorCode::Internal,
        }
    }

    fn client_message(&self) -> String {
        match self {
            Self::NotFound(id) => format!("no receipt {id}"),
            Self::Database => "try again later".into(),
        }
    }
}

/// `receipt`: returns the application's error type itself, not `SocketError`.
#[derive(SocketListener, Default, Debug)]
#[event("receipt")]
struct Receipt;

#[socket_handler]
impl Receipt {
    async fn handle(&self, packet: Packet<Value>) -> Result<Value, ReceiptError> {
        match packet.data["id"].as_u64() {
            Some(7) => Ok(json!({"id": 7, "total": 12})),
            Some(0) => Err(ReceiptError::Database),
            Some(id) => Err(ReceiptError::NotFound(id)),
            None => Err(ReceiptError::NotFound(u64::MAX)),
        }
    }
}

/// `boxed`: gathers errors of several kinds in a box, as helper functions often do.
#[derive(SocketListener, Default, Debug)]
#[event("boxed")]
struct Boxed;

fn parse_amount(text: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(text.parse::<u32>()?)
}

#[socket_handler]
impl Boxed {
    async fn handle(&self, packet: Packet<Value>) -> Result<u32, SocketError> {
        Ok(parse_amount(
            packet.data["amount"].as_str().unwrap_or_default(),
        )?)
    }
}

fn start() -> Result<Running, TestError> {
    testing::start(Switchboard::builder(testing::settings()))
}

/// The code and message of a refused ack.
fn refusal(result: Result<Value, TestError>) -> (String, String) {
    match result {
        Err(TestError::Refused { code, message, .. }) => (code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[actix_web::test]
async fn an_internal_error_text_is_not_sent_to_the_client() -> Result<(), TestError> {
    let server = start()?;
    let mut client = TestClient::connect(&server).await?;
    let (code, message) = refusal(client.emit_direct_with_ack("leak", json!({})).await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("handler_error", "the handler failed")
    );
    assert!(!message.contains("hunter2"));
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn a_message_the_handler_chose_is_sent_as_it_is() -> Result<(), TestError> {
    let server = start()?;
    let mut client = TestClient::connect(&server).await?;
    client.emit_direct("full", json!({})).await?;
    let error = client.expect_event("error").await?;
    assert_eq!(error["data"]["message"], "the room is full", "{error}");
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn an_application_error_chooses_the_code_and_message_the_client_reads()
-> Result<(), TestError> {
    let server = start()?;
    let mut client = TestClient::connect(&server).await?;
    let found = client
        .emit_direct_with_ack("receipt", json!({"id": 7}))
        .await?;
    assert_eq!(found, json!({"id": 7, "total": 12}));

    let (code, message) = refusal(
        client
            .emit_direct_with_ack("receipt", json!({"id": 9}))
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("handler_error", "no receipt 9")
    );

    let (code, message) = refusal(
        client
            .emit_direct_with_ack("receipt", json!({"id": 0}))
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("internal", "try again later")
    );
    assert!(!message.contains("hunter2"));
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn a_boxed_error_converts_with_the_generic_message() -> Result<(), TestError> {
    let server = start()?;
    let mut client = TestClient::connect(&server).await?;
    let sum = client
        .emit_direct_with_ack("boxed", json!({"amount": "12"}))
        .await?;
    assert_eq!(sum, json!(12));
    let (code, message) = refusal(
        client
            .emit_direct_with_ack("boxed", json!({"amount": "x"}))
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("handler_error", "the handler failed")
    );
    server.stop().await;
    Ok(())
}
