//! Switchboard inside an existing actix-web app: `cargo run --example embed`.
//!
//! The app keeps its own routes and its own state; the same state reaches Switchboard's
//! listeners as `State<T>`, and the app's handlers send through `web::Data<SocketServer>`.
//!
//! - `GET /orders`: the app's own JSON route;
//! - `POST /orders {"item": "tea"}`: stores an order and signals `orders` on the socket;
//! - `ws://127.0.0.1:8080/ws`: subscribe to `orders` and receive `order-placed`; send
//!   `count` on it to hear how many orders there are.
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;
use serde_json::json;
use switchboard::config::Settings;
use switchboard::prelude::*;
use switchboard::{SocketServer, Switchboard};

/// The app's own state, shared with the listeners.
#[derive(Default)]
struct Orders {
    items: Mutex<Vec<String>>,
}

impl Orders {
    fn all(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[derive(ChannelListener, Default)]
#[channel("orders")]
struct OrderFeed;

#[channel_events]
impl OrderFeed {
    /// Event `count`: answered in the ack from the app's own state.
    pub async fn count(&self, orders: State<Orders>) -> Result<usize, SocketError> {
        Ok(orders.all().len())
    }
}

#[derive(Deserialize)]
struct NewOrder {
    item: String,
}

async fn list(orders: web::Data<Orders>) -> HttpResponse {
    HttpResponse::Ok().json(orders.all())
}

async fn place(
    orders: web::Data<Orders>,
    sockets: web::Data<SocketServer>,
    order: web::Json<NewOrder>,
) -> HttpResponse {
    orders
        .items
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(order.item.clone());
    let signalled = sockets
        .broadcast("orders", "order-placed", &json!({ "item": order.item }))
        .unwrap_or(0);
    HttpResponse::Created().json(json!({ "signalled": signalled }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::default();
    settings.middleware.clear(); // no tokens in this example; see the README for JWT
    settings.auth.allow_anonymous = true;
    let orders = Arc::new(Orders::default());
    let switchboard = Switchboard::builder(settings)
        .shared_state(orders.clone())
        .build()?;

    let routes = switchboard.configure();
    let app_orders = web::Data::from(orders);
    let http = switchboard.tune(HttpServer::new(move || {
        App::new()
            .app_data(app_orders.clone())
            .configure(routes.clone()) // /ws, and /switchboard/... for the framework
            .route("/orders", web::get().to(list))
            .route("/orders", web::post().to(place))
    }));
    let bind = std::env::var("EXAMPLE_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let running = switchboard.serve(http.bind(&bind)?)?;
    println!(
        "orders app on http://{} (socket {})",
        running.addr(),
        running.ws_url()
    );
    running.run_until_signal().await?; // SIGTERM: clients get 1001, then the app stops
    Ok(())
}
