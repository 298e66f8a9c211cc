//! `/docs`: interactive docs of `/api/v1/openapi.json` (Swagger UI). Its
//! files are built into the binary (utoipa-swagger-ui's `vendored`
//! feature), so the page works offline and loads nothing from elsewhere:
//! the online spec validator Swagger UI calls by default is switched off.

use axum::Router;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::state::AppState;

/// Where the docs are served.
pub(crate) const PATH: &str = "/docs";

pub(crate) fn router() -> Router<AppState> {
    let config = Config::new(["/api/v1/openapi.json"]).validator_url("none").try_it_out_enabled(true);
    Router::from(SwaggerUi::new(PATH).config(config))
}
