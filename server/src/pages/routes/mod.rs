//! One module per page or group of pages, each with its own router.

pub mod account;
pub mod auth;
pub mod book;
pub mod booking_widget;
pub mod bookings;
pub mod call;
pub mod content;
pub mod dropin;
pub mod profile;
pub mod search;
pub mod time_zone;
