//! The sandbox's service-account keys. On start it makes an RSA key and writes a key file in
//! Google's JSON format whose `token_uri` points at the sandbox, usable unchanged by playbill
//! and by Google's own client libraries.

use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use jsonwebtoken::DecodingKey;
use rand::Rng;
use serde_json::json;

/// A key the sandbox issued: the token endpoint checks assertions against it.
#[derive(Clone)]
pub struct IssuedKey {
    pub kid: String,
    pub client_email: String,
    pub client_id: String,
    pub private_key_pem: String,
    pub public_key: DecodingKey,
}

impl IssuedKey {
    pub fn generate(client_email: &str) -> Result<Self, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| format!("RSA keygen: {e}"))?;
        let der = pair.as_der().map_err(|e| format!("PKCS#8 encoding: {e}"))?;
        let private_key_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
        let public_key = DecodingKey::from_rsa_der(pair.public_key().as_ref());
        let mut rng = rand::rng();
        let kid: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect();
        let client_id: String = (0..21)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        Ok(Self {
            kid,
            client_email: client_email.to_owned(),
            client_id,
            private_key_pem,
            public_key,
        })
    }

    /// The key file, in the format Google's console downloads.
    pub fn key_file_json(&self, project_id: &str, base_url: &str) -> serde_json::Value {
        json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": self.kid,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": format!("{base_url}/o/oauth2/auth"),
            "token_uri": format!("{base_url}/token"),
            "auth_provider_x509_cert_url": format!("{base_url}/oauth2/v1/certs"),
            "client_x509_cert_url": format!("{base_url}/robot/v1/metadata/x509/{}", self.client_email),
            "universe_domain": "googleapis.com"
        })
    }
}

/// Writes the key file, readable by its owner only (it holds a private key).
pub fn write_key_file(path: &Path, json: &serde_json::Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(json).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path)
}
