//! Query strings read into typed parameters, as bodies are: a value that does not parse is a
//! 422 `validation_failed` naming its parameter, a missing required one too; a parameter the
//! route does not know is a 400.
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use crate::domain::problem::Problem;

/// The query string of a request as `T`.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query).map_err(ApiError::from))
    }
}

/// An optional parameter `name` read by `read`, or the problem naming it.
pub fn optional<T>(
    name: &str,
    raw: Option<&str>,
    read: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, Problem> {
    raw.map(read)
        .transpose()
        .map_err(|m| Problem::field(name, m))
}

/// `raw` as `T`, or the problem that names what is wrong with it.
pub fn parse<T: DeserializeOwned>(raw: &str) -> Result<T, Problem> {
    serde_urlencoded::from_str::<T>(raw).map_err(|e| explain::<T>(raw, &e.to_string()))
}

/// Which parameter made `raw` fail: the one without which it parses (or only misses it).
fn explain<T: DeserializeOwned>(raw: &str, message: &str) -> Problem {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return Problem::field(field, "is required");
    }
    if !message.starts_with("unknown field") {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        for (i, (key, value)) in pairs.iter().enumerate() {
            let others = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    pairs
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, p)| p),
                )
                .finish();
            let culprit = match serde_urlencoded::from_str::<T>(&others) {
                Ok(_) => true,
                Err(e) => e.to_string() == format!("missing field `{key}`"),
            };
            if culprit {
                return Problem::field(
                    key.as_str(),
                    format!("{value:?} is not valid here: {message}"),
                );
            }
        }
    }
    Problem::bad_request(format!("invalid query string: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        id: uuid::Uuid,
        flag: Option<bool>,
        limit: Option<i64>,
    }

    fn field_of(raw: &str) -> Option<String> {
        parse::<Q>(raw)
            .err()?
            .errors
            .first()
            .map(|e| e.field.clone())
    }

    #[test]
    fn the_parameter_that_does_not_parse_is_named() {
        let id = "01a23180-52b2-709b-a193-9d70c6c958cd";
        let q = parse::<Q>(&format!("id={id}&flag=true&limit=5")).expect("parses");
        assert_eq!(
            (q.id.to_string(), q.flag, q.limit),
            (id.to_owned(), Some(true), Some(5))
        );
        assert_eq!(
            field_of(&format!("id={id}&flag=maybe")).as_deref(),
            Some("flag")
        );
        assert_eq!(
            field_of(&format!("limit=ten&id={id}")).as_deref(),
            Some("limit")
        );
        assert_eq!(field_of("id=x").as_deref(), Some("id"));
        assert_eq!(field_of("flag=true").as_deref(), Some("id"));
        let unknown = parse::<Q>(&format!("id={id}&colour=red")).expect_err("unknown");
        assert_eq!(unknown.code, crate::domain::problem::Code::BadRequest);
    }
}
