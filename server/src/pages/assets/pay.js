// The pay step of a booking or a content purchase: mounts Stripe's Payment Element for its
// PaymentIntent and confirms it. Its data comes from data-* attributes of
// #pay-form (the client secret, the publishable key, where to return).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("pay-form");
  if (!form) return;
  var button = document.getElementById("pay-button");
  var error = document.getElementById("pay-error");

  function show(message) {
    error.textContent = message;
    error.hidden = false;
    button.disabled = false;
  }

  if (typeof window.Stripe !== "function") {
    button.disabled = true;
    show("Payments could not load. Check your connection and reload the page.");
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
  elements.create("payment").mount("#payment-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    error.hidden = true;
    var back = new URL(form.getAttribute("data-return-url"), window.location.href).href;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: back } })
      .then(function (result) {
        // Success leaves the page for return_url; only an error comes back here.
        if (result.error) show(result.error.message || "The payment did not go through.");
      });
  });
});
