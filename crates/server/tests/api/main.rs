//! API tests: the real server over a socket, against the sandbox over HTTP, on SQLite and
//! PostgreSQL. One module per concern of `POST /v1/apps/{package}/purchases:verify`.

mod helpers;

mod admin;
mod auth_and_input;
mod catalog;
mod external;
mod failures;
mod ownership;
mod reports;
mod rtdn;
mod verify_one_time;
mod verify_subscription;
