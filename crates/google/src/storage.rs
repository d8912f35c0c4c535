//! Cloud Storage JSON API v1 wire types (objects list), as storage.v1's discovery document has them.
//!
//! Only what reading the Play Console reports bucket needs (reference section 11):
//! `objects.list` answers ([`Objects`]) and object metadata ([`Object`]). `generation`,
//! `metageneration` and `size` are int64/uint64 in the contract, so JSON strings here
//! ([`Int64`]). Every field is optional, absent fields stay absent, unknown fields are ignored.
//! Errors use the same envelope as every Google JSON API ([`crate::wire::ErrorEnvelope`]).

use serde::{Deserialize, Serialize};

use crate::wire::Int64;

/// Read-only access to Cloud Storage (enough for the reports bucket).
pub const DEVSTORAGE_READ_ONLY_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";
/// Full control of Cloud Storage (also accepted for reads).
pub const DEVSTORAGE_FULL_CONTROL_SCOPE: &str =
    "https://www.googleapis.com/auth/devstorage.full_control";

/// `storage.objects.list` and `storage.objects.get` (`alt=media` for the bytes).
pub const OBJECTS_LIST: crate::methods::Method = crate::methods::Method {
    id: "storage.objects.list",
    http_method: "GET",
    flat_path: "storage/v1/b/{bucket}/o",
};
pub const OBJECTS_GET: crate::methods::Method = crate::methods::Method {
    id: "storage.objects.get",
    http_method: "GET",
    flat_path: "storage/v1/b/{bucket}/o/{object}",
};
/// Cloud Storage's root URL.
pub const STORAGE_URL: &str = "https://storage.googleapis.com/";

/// `Objects`: one page of `storage.objects.list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Objects {
    /// Always `storage#objects`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Absent (not empty) when the page holds no object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Object>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// Names rolled up at `delimiter`, each ending with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefixes: Option<Vec<String>>,
}

/// `Object`: an object's metadata (`storage.objects.get` without `alt=media`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// CRC32C of the data, base64 of the big-endian 4 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The content generation: changes whenever the content is rewritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<Int64>,
    /// `{bucket}/{name}/{generation}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `storage#object`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// MD5 of the data, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5_hash: Option<String>,
    /// Where the bytes are downloaded (`…?alt=media`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metageneration: Option<Int64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// Content length in bytes (uint64 in the contract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Int64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_storage_class_updated: Option<String>,
    /// RFC 3339: last change of content or metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_generations_are_strings() {
        let page: Objects = serde_json::from_str(
            r#"{"kind":"storage#objects","items":[{"name":"sales/salesreport_202609.zip",
                "size":"1234","generation":"1727000000000000","metageneration":"1",
                "md5Hash":"XrY7u+Ae7tCTyyK7j1rNww==","somethingNew":true}],
                "nextPageToken":"abc"}"#,
        )
        .unwrap();
        let o = &page.items.as_ref().unwrap()[0];
        assert_eq!(o.size, Some(Int64(1234)));
        assert_eq!(o.generation, Some(Int64(1_727_000_000_000_000)));
        let back = serde_json::to_value(&page).unwrap();
        assert_eq!(back["items"][0]["size"], "1234");
        assert_eq!(back["items"][0]["md5Hash"], "XrY7u+Ae7tCTyyK7j1rNww==");
        assert!(back.get("prefixes").is_none());
    }
}
