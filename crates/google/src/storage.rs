//! Cloud Storage JSON API v1 wire types (objects list), as storage.v1's discovery document has them.
