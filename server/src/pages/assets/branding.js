// The branding editor: restyles the preview as the inputs change (CSS
// custom properties set through the CSSOM, which the CSP allows) and
// checks WCAG contrast live. The ratio mirrors server/src/pages/contrast.rs.
"use strict";

(function () {
  function channel(hex, at) {
    return parseInt(hex.slice(at, at + 2), 16) / 255;
  }

  function linear(c) {
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }

  function luminance(color) {
    var hex = (color || "#000000").replace("#", "");
    if (hex.length === 3) hex = hex.replace(/(.)/g, "$1$1");
    return 0.2126 * linear(channel(hex, 0)) + 0.7152 * linear(channel(hex, 2)) + 0.0722 * linear(channel(hex, 4));
  }

  function ratio(a, b) {
    var la = luminance(a), lb = luminance(b);
    var light = Math.max(la, lb), dark = Math.min(la, lb);
    return (light + 0.05) / (dark + 0.05);
  }

  window.droplyContrast = ratio;

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("branding-form");
    var preview = document.getElementById("brand-preview");
    var report = document.getElementById("contrast-report");
    if (!form || !preview || !report) return;
    var min = parseFloat(form.getAttribute("data-min-ratio")) || 4.5;

    function value(name) {
      var field = form.elements[name];
      return field ? field.value : "";
    }

    function line(text, bad) {
      var p = document.createElement("p");
      p.className = bad ? "alert contrast-warning" : "success";
      p.textContent = text;
      return p;
    }

    function update() {
      var bg = value("background_color"), text = value("secondary_color"), primary = value("primary_color");
      preview.style.setProperty("--brand-bg", bg);
      preview.style.setProperty("--brand-fg", text);
      preview.style.setProperty("--brand-primary", primary);
      var size = parseInt(value("font_size"), 10);
      if (size >= 10 && size <= 32) preview.style.setProperty("--brand-size", size + "px");
      var family = form.elements.font_family;
      var option = family && family.options[family.selectedIndex];
      if (option) preview.style.setProperty("--brand-font", option.getAttribute("data-stack"));
      var layout = form.querySelector('input[name="profile_layout"]:checked');
      if (layout) preview.setAttribute("data-layout", layout.value);

      var lines = [];
      [["Text", text], ["Primary colour", primary]].forEach(function (pair) {
        var r = ratio(pair[1], bg);
        if (r < min) {
          lines.push(line(pair[0] + " on the background has a contrast of " + r.toFixed(2) +
            ":1, below the " + min + ":1 people need to read it.", true));
        }
      });
      if (!lines.length) lines.push(line("Text and primary colour are readable on the background.", false));
      report.replaceChildren.apply(report, lines);
    }

    form.querySelectorAll("[data-brand-input]").forEach(function (input) {
      input.addEventListener("input", update);
      input.addEventListener("change", update);
    });
    update();
  });
})();
