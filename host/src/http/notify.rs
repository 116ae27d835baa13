//! The sender of staff notifications: drains the durable queue in the
//! database and posts each to the webhook, signed.
//!
//! Signature (after Stripe's): `X-Crm-Consent-Signature: t=<unix>,v1=<hex>`
//! where `v1` is HMAC-SHA256 with the webhook's key over `<t>.<body>`; the
//! time lets a receiver refuse replays. `X-Crm-Consent-Delivery` is the
//! notification's id, to deduplicate a delivery repeated after a crash.

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::pool::Pool;
use crate::store::{Notification, Webhook};

/// How often the queue is looked at when there is nothing to send.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a receiver may take to answer before the attempt fails.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Notifications taken from the queue at a time.
const BATCH: u32 = 50;

/// Runs until the process ends; a failure to reach the database is logged
/// and retried at the next poll.
pub(crate) async fn run(pool: Pool) {
    let client = match reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("staff notifications are off: cannot build an HTTP client: {e}");
            return;
        }
    };
    loop {
        let due = pool
            .run(|hooks| {
                let store = hooks.store();
                let Some(hook) = store.webhook()? else {
                    return Ok(None);
                };
                Ok(Some((hook, store.due_notifications(Utc::now(), BATCH)?)))
            })
            .await;
        let sent_any = match due {
            Ok(Some((hook, due))) if !due.is_empty() => {
                for n in due {
                    deliver(&pool, &client, &hook, n).await;
                }
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(code = e.code(), "cannot read the notification queue");
                false
            }
        };
        if !sent_any {
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn deliver(pool: &Pool, client: &reqwest::Client, hook: &Webhook, n: Notification) {
    let at = Utc::now().timestamp();
    let signature = sign(&hook.secret, at, &n.body);
    let sent = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-crm-consent-signature", format!("t={at},v1={signature}"))
        .header("x-crm-consent-delivery", n.id.to_string())
        .body(n.body.clone())
        .send()
        .await;
    let failure = match sent {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("the receiver answered {}", r.status())),
        Err(e) => Some(format!("cannot reach the receiver: {e}")),
    };
    let id = n.id;
    let recorded = pool
        .run(move |hooks| {
            let store = hooks.store_mut();
            match failure {
                None => store.notification_delivered(id)?,
                Some(why) => store.notification_failed(id, &why)?,
            }
            Ok(())
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(
            id,
            code = e.code(),
            "cannot record a notification's delivery"
        );
    }
}

/// The hex HMAC-SHA256 of `<at>.<body>` under the webhook's hex key.
pub fn sign(secret_hex: &str, at: i64, body: &str) -> String {
    let key = hex::decode(secret_hex).unwrap_or_else(|_| secret_hex.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}
