//! The span every request is logged under. The client's address is the connection's peer;
//! `X-Forwarded-For` replaces it only when the peer is one of `http.trusted_proxies`, so a
//! client cannot write any address it likes into the logs.
use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::app::Ctx;

/// The client of a request that came from `peer` with these `X-Forwarded-For` values: the
/// last address of the chain that is not a trusted proxy, reading from the peer backwards.
/// From an untrusted peer, or with an unreadable header, the peer itself.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let chain: Option<Vec<IpAddr>> = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(|a| a.trim().parse().ok())
        .collect();
    let Some(chain) = chain else {
        return Some(peer);
    };
    Some(
        chain
            .iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .or(chain.first())
            .copied()
            .unwrap_or(peer),
    )
}

/// Request spans with the client address as [`client_ip`] finds it.
pub struct RequestSpans;

impl RootSpanBuilder for RequestSpans {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let trusted = req
            .app_data::<web::Data<Ctx>>()
            .map(|ctx| ctx.settings().http.trusted_proxies.clone())
            .unwrap_or_default();
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let client = client_ip(req.peer_addr().map(|a| a.ip()), &forwarded, &trusted)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = req
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        tracing::info_span!(
            "HTTP request",
            http.method = %req.method(),
            http.route = %route,
            http.target = %req.uri().path(),
            http.client_ip = %client,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let client = ip("203.0.113.7");
        assert_eq!(
            client_ip(Some(client), &["198.51.100.1"], &[]),
            Some(client),
            "no proxy is trusted by default"
        );
        assert_eq!(
            client_ip(Some(client), &["198.51.100.1"], &[proxy]),
            Some(client),
            "a client is not a proxy"
        );
        assert_eq!(
            client_ip(Some(proxy), &["203.0.113.7"], &[proxy]),
            Some(client)
        );
    }

    #[test]
    fn a_forged_start_of_the_chain_is_skipped_and_garbage_ignored() {
        let (outer, inner) = (ip("10.0.0.2"), ip("10.0.0.3"));
        assert_eq!(
            client_ip(
                Some(inner),
                &["6.6.6.6, 203.0.113.7", "10.0.0.2"],
                &[outer, inner]
            ),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            client_ip(Some(inner), &["not an address"], &[inner]),
            Some(inner)
        );
        assert_eq!(client_ip(None, &["203.0.113.7"], &[inner]), None);
    }
}
