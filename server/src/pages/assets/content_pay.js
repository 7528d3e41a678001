// The pay step of a content purchase: mounts Stripe's Payment Element
// with the PaymentIntent's client secret, read from data-* attributes
// (no inline script), and confirms it, returning to the content page.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("pay-form");
    if (!form) return;
    var failure = document.getElementById("pay-error");
    function fail(message) {
      failure.textContent = message;
      failure.hidden = false;
    }
    if (!window.Stripe) {
      fail("The payment form could not load. Check your connection and reload the page.");
      return;
    }
    var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
    var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
    elements.create("payment").mount("#payment-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = document.getElementById("pay-button");
      button.disabled = true;
      stripe.confirmPayment({
        elements: elements,
        confirmParams: { return_url: new URL(form.getAttribute("data-return-url"), window.location.href).href },
      }).then(function (result) {
        if (result.error) fail(result.error.message || "The payment did not go through.");
        button.disabled = false;
      });
    });
  });
})();
