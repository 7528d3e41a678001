//! Optional repairs the [`StripeFake`](super::StripeFake) applies to
//! localstripe's JSON on the way back (see
//! [`StripeFake::set_upstream_fixups`](super::StripeFake::set_upstream_fixups)),
//! so that a client built on Stripe's real schema (async-stripe, whose
//! decoders require these fields) can read it: localstripe's
//! PaymentIntents, Charges and Events lack fields Stripe always sends.

use serde_json::{Map, Value, json};

/// Repairs `value` (a response body) in place, at any depth: lists, events'
/// `data.object` and expanded objects included. `keep_latest_charge` keeps
/// an expanded `latest_charge` (the request asked to expand it) instead of
/// replacing it by its id as Stripe does by default.
pub(super) fn fix(value: &mut Value, keep_latest_charge: bool) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| fix(v, keep_latest_charge)),
        Value::Object(map) => {
            map.values_mut().for_each(|v| fix(v, keep_latest_charge));
            match map.get("object").and_then(Value::as_str) {
                Some("payment_intent") => fix_payment_intent(map, keep_latest_charge),
                Some("charge") => fix_charge(map),
                Some("event") => fix_event(map),
                _ => {}
            }
        }
        _ => {}
    }
}

/// Repairs an error body: localstripe types card declines as
/// `invalid_request_error`, Stripe as `card_error`.
pub(super) fn fix_error(value: &mut Value) {
    if let Some(error) = value.get_mut("error").and_then(Value::as_object_mut) {
        fix_payment_error(error);
    }
}

fn fix_payment_error(error: &mut Map<String, Value>) {
    let card = error.get("code").and_then(Value::as_str) == Some("card_declined");
    if card || !error.contains_key("type") {
        let kind = if card {
            "card_error"
        } else {
            "invalid_request_error"
        };
        error.insert("type".into(), kind.into());
    }
}

fn amount_if(map: &Map<String, Value>, status: &str) -> Value {
    if map.get("status").and_then(Value::as_str) == Some(status) {
        map.get("amount").cloned().unwrap_or_else(|| json!(0))
    } else {
        json!(0)
    }
}

fn fix_payment_intent(map: &mut Map<String, Value>, keep_latest_charge: bool) {
    if !map.contains_key("amount_received") {
        let received = amount_if(map, "succeeded");
        map.insert("amount_received".into(), received);
    }
    if !map.contains_key("amount_capturable") {
        let capturable = amount_if(map, "requires_capture");
        map.insert("amount_capturable".into(), capturable);
    }
    map.entry("confirmation_method")
        .or_insert_with(|| json!("automatic"));
    map.entry("payment_method_types")
        .or_insert_with(|| json!(["card"]));
    if let Some(Value::Object(error)) = map.get_mut("last_payment_error") {
        fix_payment_error(error);
    }
    if !keep_latest_charge
        && let Some(charge) = map.get_mut("latest_charge")
        && let Some(id) = charge.get("id").cloned()
    {
        *charge = id;
    }
}

fn fix_charge(map: &mut Map<String, Value>) {
    if !map.contains_key("amount_captured") {
        let captured = map.get("captured") == Some(&Value::Bool(true));
        let amount = if captured {
            amount_if(map, "succeeded")
        } else {
            json!(0)
        };
        map.insert("amount_captured".into(), amount);
    }
    map.entry("disputed").or_insert_with(|| json!(false));
    map.entry("billing_details").or_insert_with(
        || json!({"address": null, "email": null, "name": null, "phone": null, "tax_id": null}),
    );
}

fn fix_event(map: &mut Map<String, Value>) {
    map.entry("pending_webhooks").or_insert_with(|| json!(0));
    map.entry("request")
        .or_insert_with(|| json!({"id": null, "idempotency_key": null}));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_a_succeeded_intent_in_a_list() {
        let mut list = json!({"object": "list", "data": [{
            "object": "payment_intent", "id": "pi_1", "amount": 2000, "status": "succeeded",
            "latest_charge": {"object": "charge", "id": "ch_1", "amount": 2000, "captured": true, "status": "succeeded"},
        }]});
        fix(&mut list, false);
        let intent = &list["data"][0];
        assert_eq!(intent["amount_received"], 2000);
        assert_eq!(intent["amount_capturable"], 0);
        assert_eq!(intent["confirmation_method"], "automatic");
        assert_eq!(intent["payment_method_types"], json!(["card"]));
        assert_eq!(intent["latest_charge"], "ch_1");

        let mut expanded = json!({
            "object": "payment_intent", "amount": 5, "status": "requires_capture",
            "latest_charge": {"object": "charge", "id": "ch_2", "amount": 5, "captured": false, "status": "succeeded"},
            "last_payment_error": null,
        });
        fix(&mut expanded, true);
        assert_eq!(expanded["amount_capturable"], 5);
        assert_eq!(expanded["amount_received"], 0);
        assert_eq!(expanded["latest_charge"]["amount_captured"], 0);
        assert_eq!(expanded["latest_charge"]["disputed"], false);
    }

    #[test]
    fn repairs_declines_and_events() {
        let mut declined = json!({"object": "payment_intent", "amount": 5, "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "message": "no"}});
        fix(&mut declined, false);
        assert_eq!(declined["last_payment_error"]["type"], "card_error");
        assert_eq!(declined["amount_received"], 0);

        let mut error =
            json!({"error": {"type": "invalid_request_error", "code": "card_declined"}});
        fix_error(&mut error);
        assert_eq!(error["error"]["type"], "card_error");

        let mut event = json!({"object": "event", "data": {"object": {"object": "payment_intent", "amount": 1, "status": "succeeded"}}});
        fix(&mut event, false);
        assert_eq!(event["pending_webhooks"], 0);
        assert_eq!(event["request"]["id"], Value::Null);
        assert_eq!(event["data"]["object"]["amount_received"], 1);
    }
}
