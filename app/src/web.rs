//! The demo's web page (`/`) and the room routes its declarative elements use.
//!
//! The page is plain HTML, CSS and JavaScript from `app/static/`, embedded in the
//! binary. It imports the browser client the framework serves at `/switchboard/switchboard.js`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use switchboard::Initiator;

use crate::auth::SignedIn;
use crate::room_store::{RoomStore, StoreError};
use crate::rooms::{PostError, valid_room_id};

const INDEX_HTML: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const APP_CSS: &str = include_str!("../static/app.css");

/// Mounts `/`, its assets, `GET`/`POST /rooms/{id}/messages` and
/// `POST /rooms/{id}/summary`.
pub fn configure(cfg: &mut web::ServiceConfig, rooms: web::Data<RoomStore>) {
    cfg.app_data(rooms)
        .route("/", web::get().to(index))
        .route("/app.js", web::get().to(app_js))
        .route("/app.css", web::get().to(app_css))
        .route("/rooms/{id}/messages", web::get().to(room_messages))
        .route("/rooms/{id}/messages", web::post().to(post_room_message))
        .route("/rooms/{id}/summary", web::post().to(room_summary));
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn index() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> HttpResponse {
    asset("text/css; charset=utf-8", APP_CSS)
}

fn refused(code: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": { "code": code, "message": message } }))
}

fn unavailable(error: &StoreError) -> HttpResponse {
    tracing::warn!(%error, "room store");
    HttpResponse::ServiceUnavailable()
        .json(json!({ "error": { "code": "unavailable", "message": error.to_string() } }))
}

/// The room's recent messages as an HTML fragment of `<li>` items.
async fn room_messages(rooms: web::Data<RoomStore>, id: web::Path<String>) -> HttpResponse {
    if !valid_room_id(&id) {
        return refused("bad_room", &PostError::BadRoom.to_string());
    }
    match rooms.render(&id).await {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => unavailable(&e),
    }
}

/// The room's summary card as an HTML fragment: what the page's
/// `data-sb-action="POST /rooms/{id}/summary"` element morphs in on every `message`
/// signal. A POST because it is an action, as a page would write one; it reads only,
/// so it needs no sign-in (like the messages fragment).
async fn room_summary(rooms: web::Data<RoomStore>, id: web::Path<String>) -> HttpResponse {
    if !valid_room_id(&id) {
        return refused("bad_room", &PostError::BadRoom.to_string());
    }
    match rooms.render_summary(&id).await {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => unavailable(&e),
    }
}

#[derive(Deserialize)]
struct NewMessage {
    message: String,
}

/// Stores the message, written by the signed-in user; every page showing the room is
/// signalled (`message` on `room.{id}`) and re-fetches its fragment, except the poster's
/// (named by the client's `X-Socket-Id`), which shows the fragment in this answer.
async fn post_room_message(
    SignedIn(author): SignedIn,
    initiator: Initiator,
    rooms: web::Data<RoomStore>,
    id: web::Path<String>,
    body: web::Json<NewMessage>,
) -> HttpResponse {
    let posted = match rooms
        .post(&id, &author.name, &body.message, &initiator)
        .await
    {
        Ok(posted) => posted,
        Err(StoreError::Refused(e @ PostError::Full)) => {
            return HttpResponse::ServiceUnavailable()
                .json(json!({ "error": { "code": "full", "message": e.to_string() } }));
        }
        Err(StoreError::Refused(e)) => return refused("bad_message", &e.to_string()),
        Err(e) => return unavailable(&e),
    };
    // The poster's page renders from here rather than waiting for a signal it will not get.
    let html = rooms.render(&id).await.unwrap_or_default();
    HttpResponse::Created().json(json!({ "seq": posted.seq, "html": html }))
}
