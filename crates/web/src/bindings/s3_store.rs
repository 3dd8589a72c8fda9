//! `AkiDB.open({ store: 's3', endpoint, region, bucket, prefix, accessKeyId, secretAccessKey,
//! sessionToken, forcePathStyle, requestTimeoutMs })`: options → [`S3Config`] → an S3 store over
//! `fetch`. Opening sends no request; wrong credentials surface as AUTH on the first operation.

use std::sync::Arc;

use wasm_bindgen::JsValue;

use super::convert::{is_absent, prop};
use super::errors::{invalid, to_js, JsResult};
use super::options::millis;
use {
    crate::stores::s3_fetch,
    akidb_core::kv::{Kv, S3Config},
};

fn required(options: &JsValue, key: &str) -> JsResult<String> {
    let v = prop(options, key);
    if is_absent(&v) {
        return Err(invalid(format!("options.{key} is required for store 's3'")));
    }
    // The type error names the option, never its value (it may be a secret).
    v.as_string().ok_or_else(|| invalid(format!("options.{key} must be a string")))
}

fn optional(options: &JsValue, key: &str) -> JsResult<Option<String>> {
    let v = prop(options, key);
    if is_absent(&v) {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| invalid(format!("options.{key} must be a string")))
}

/// Builds the S3 configuration from the `AkiDB.open` options.
pub fn config(options: &JsValue) -> JsResult<S3Config> {
    let mut c = S3Config::new(
        required(options, "endpoint")?,
        required(options, "bucket")?,
        required(options, "accessKeyId")?,
        required(options, "secretAccessKey")?,
    );
    if let Some(region) = optional(options, "region")? {
        c.region = region;
    }
    c.session_token = optional(options, "sessionToken")?;
    let style = prop(options, "forcePathStyle");
    if !is_absent(&style) {
        c.force_path_style = Some(style.as_bool().ok_or_else(|| invalid("options.forcePathStyle must be a boolean"))?);
    }
    if let Some(d) = millis(&prop(options, "requestTimeoutMs"), "options.requestTimeoutMs", true)? {
        c.request_timeout = d;
    }
    c.validate().map_err(to_js)?;
    Ok(c)
}

/// Opens the S3 store described by `options`.
pub fn open(options: &JsValue) -> JsResult<Arc<dyn Kv>> {
    let c = config(options)?;
    Ok(Arc::new(s3_fetch::open(&c).map_err(to_js)?))
}
