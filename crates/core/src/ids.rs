//! Validated identifiers. Each is parsed once at the boundary, so the rest of the code can
//! trust it. `PurchaseToken` redacts itself in `Debug` and `Display`: a token is a bearer
//! credential for a purchase and must never reach a log whole.

use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} contains a character that is not allowed: {found:?}")]
    BadChar { what: &'static str, found: char },
}

fn check(
    what: &'static str,
    s: &str,
    max: usize,
    ok: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    if s.chars().count() > max {
        return Err(IdError::TooLong { what, max });
    }
    if let Some(found) = s.chars().find(|c| !ok(*c)) {
        return Err(IdError::BadChar { what, found });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $ok:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check($what, &s, $max, $ok)?;
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// An Android application id such as `com.example.app`.
    PackageName,
    "package name",
    255,
    |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_'
);
id_type!(
    /// A product id (one-time product sku or subscription product id).
    ProductId,
    "product id",
    150,
    |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
);
id_type!(
    /// The app's own account id for a user. Opaque to us; printable, no control characters.
    UserId,
    "user id",
    256,
    |c: char| !c.is_control()
);
id_type!(
    /// A Google Play purchase token. Never printed whole.
    PurchaseToken,
    "purchase token",
    4096,
    |c: char| c.is_ascii_graphic()
);

macro_rules! plain_fmt {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
plain_fmt!(PackageName, ProductId, UserId);

impl PurchaseToken {
    /// A short, non-reversible form for logs: the first 6 characters and the length.
    pub fn redacted(&self) -> String {
        let head: String = self.0.chars().take(6).collect();
        format!("{head}…({} chars)", self.0.len())
    }
}

impl fmt::Debug for PurchaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PurchaseToken({})", self.redacted())
    }
}

impl fmt::Display for PurchaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert!(PackageName::parse("com.example.app").is_ok());
        assert_eq!(
            PackageName::parse(""),
            Err(IdError::Empty {
                what: "package name"
            })
        );
        assert_eq!(
            PackageName::parse("com/evil"),
            Err(IdError::BadChar {
                what: "package name",
                found: '/'
            })
        );
        assert!(ProductId::parse("premium_monthly").is_ok());
        assert!(UserId::parse("user 42 ü").is_ok());
        assert!(UserId::parse("a\nb").is_err());
        assert!(PurchaseToken::parse("has space").is_err());
    }

    #[test]
    fn token_never_prints_whole() {
        let t = PurchaseToken::parse("abcdefghijklmnopqrstuvwxyz").unwrap();
        for shown in [format!("{t}"), format!("{t:?}")] {
            assert!(!shown.contains("ghijklmnop"), "{shown}");
            assert!(shown.contains("abcdef"));
        }
    }
}
