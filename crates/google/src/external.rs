//! External transactions (alternative billing) wire types, exactly as the discovery document has them.
