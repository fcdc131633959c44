//! Whether every candidate got their fair share of meetings: the election sets a minimum per
//! elected body (`min_meetings_per_candidate`), and each unit's spread between its candidates
//! with most and fewest meetings shows who was left out.
use serde_json::Value;

use crate::domain::kinds::Body;

/// The minimum an election sets for a body, if any.
pub fn minimum(minimums: &Value, body: Body) -> Option<i64> {
    minimums.get(body.as_str()).and_then(Value::as_i64)
}

/// A candidate with `planned` meetings (not cancelled) is below the body's minimum.
pub fn below_minimum(planned: i64, minimum: Option<i64>) -> bool {
    minimum.is_some_and(|n| planned < n)
}

/// The most and fewest meetings among a unit's candidates, and the spread between them.
pub fn spread(planned: impl IntoIterator<Item = i64>) -> (i64, i64, i64) {
    let (most, least) = planned
        .into_iter()
        .fold(None, |acc: Option<(i64, i64)>, n| {
            Some(acc.map_or((n, n), |(hi, lo)| (hi.max(n), lo.min(n))))
        })
        .unwrap_or((0, 0));
    (most, least, most - least)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_minimum_applies_to_its_body_only() {
        let minimums = json!({"national_assembly": 10});
        assert_eq!(minimum(&minimums, Body::NationalAssembly), Some(10));
        assert_eq!(minimum(&minimums, Body::CommuneCouncil), None);
        assert!(below_minimum(9, Some(10)));
        assert!(!below_minimum(10, Some(10)));
        assert!(!below_minimum(0, None));
    }

    #[test]
    fn the_spread_is_most_minus_fewest() {
        assert_eq!(spread([3, 7, 5]), (7, 3, 4));
        assert_eq!(spread([]), (0, 0, 0));
    }
}
