// The live drop-in room: one WebSocket to /v1/dropins/{id}/live (the
// participant token travels in an HttpOnly cookie the page never sees),
// the history and live frames rendered in id order, who is here, and a
// reconnect with after=<last id> and exponential backoff, so nothing is
// lost or shown twice. The host also gets answer and remove buttons.
// People are shown by display name only.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var room = document.getElementById("room");
    if (!room || !window.WebSocket) return;
    var sessionId = room.getAttribute("data-session-id");
    var isHost = room.hasAttribute("data-host");
    var list = document.getElementById("messages");
    var presence = document.getElementById("presence");
    var status = document.getElementById("room-status");
    var form = document.getElementById("compose");
    var text = document.getElementById("compose-text");
    var kind = document.getElementById("compose-type");
    var replying = document.getElementById("replying");
    var replyingText = document.getElementById("replying-text");

    var lastId = 0;
    var socket = null;
    var welcomed = false;
    var everWelcomed = false;
    var ended = false;
    var delay = 500;
    var replyTo = null;
    var here = {};

    function say(message) { status.textContent = message; }

    function el(tag, className, content) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (content !== undefined) node.textContent = content;
      return node;
    }

    function renderPresence() {
      var items = Object.keys(here).map(function (key) {
        var who = here[key];
        var li = el("li", who.role === "host" ? "host" : "", who.display_name);
        if (who.role === "host") li.appendChild(el("span", "role", " host"));
        return li;
      });
      if (!items.length) items.push(el("li", "muted", "Nobody yet"));
      presence.replaceChildren.apply(presence, items);
    }

    function byId(id) {
      return list.querySelector('[data-id="' + id + '"]');
    }

    function markRemoved(node) {
      if (!node) return;
      node.classList.add("removed");
      var body = node.querySelector(".body");
      if (body) body.textContent = "Removed by the host";
      node.querySelectorAll(".host-tools").forEach(function (tools) { tools.remove(); });
    }

    function startReply(message) {
      replyTo = message.id;
      replyingText.textContent = "Answering: " + message.content;
      replying.hidden = false;
      text.focus();
    }

    function hostTools(message) {
      var tools = el("span", "host-tools");
      if (message.type === "question") {
        var answer = el("button", "link", "Answer");
        answer.type = "button";
        answer.addEventListener("click", function () { startReply(message); });
        tools.appendChild(answer);
      }
      var remove = el("button", "link danger", "Remove");
      remove.type = "button";
      remove.addEventListener("click", function () {
        send({ type: "remove", message_id: message.id });
      });
      tools.appendChild(remove);
      return tools;
    }

    function render(message) {
      var author = message.author || {};
      if (message.type === "system") {
        if (message.content === "joined") here[author.participant_id] = author;
        if (message.content === "left") delete here[author.participant_id];
        if (message.content === "joined" || message.content === "left") {
          renderPresence();
          list.appendChild(el("li", "notice", author.display_name + (message.content === "joined" ? " joined" : " left")));
        } else if (message.content === "removed") {
          markRemoved(byId(message.reply_to));
        } else if (message.content === "ended") {
          ended = true;
          list.appendChild(el("li", "notice", "The host ended the drop-in."));
          form.hidden = true;
        }
        return;
      }
      if (message.type === "reaction") {
        var target = byId(message.reply_to);
        var reactions = target && target.querySelector(".reactions");
        if (reactions) reactions.appendChild(el("span", "reaction", message.content));
        return;
      }
      var li = el("li", "message " + message.type);
      li.setAttribute("data-id", message.id);
      var head = el("p", "meta");
      head.appendChild(el("strong", "author", author.display_name));
      if (author.role === "host") head.appendChild(el("span", "role", "host"));
      head.appendChild(el("span", "type", message.type));
      li.appendChild(head);
      if (message.type === "answer" && message.reply_to) {
        var question = byId(message.reply_to);
        var quoted = question && question.querySelector(".body");
        li.appendChild(el("p", "quote", "↪ " + (quoted ? quoted.textContent : "a question")));
      }
      li.appendChild(el("p", "body", message.content));
      li.appendChild(el("p", "reactions"));
      if (isHost && !message.removed) li.appendChild(hostTools(message));
      list.appendChild(li);
      if (message.removed) markRemoved(li);
      list.scrollTop = list.scrollHeight;
    }

    function onFrame(event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.kind === "welcome") {
        welcomed = true;
        everWelcomed = true;
        delay = 500;
        say("Connected as " + frame.you.display_name + ".");
        return;
      }
      if (frame.kind === "error") {
        say(frame.message || "That did not work.");
        return;
      }
      if (frame.kind !== "message" || frame.id <= lastId) return;
      lastId = frame.id;
      render(frame);
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var url = scheme + window.location.host + "/v1/dropins/" + sessionId + "/live" +
        (lastId > 0 ? "?after=" + lastId : "");
      welcomed = false;
      socket = new WebSocket(url);
      socket.addEventListener("message", onFrame);
      socket.addEventListener("close", function () {
        socket = null;
        if (ended) { say("The drop-in has ended."); return; }
        if (!everWelcomed && delay >= 4000) {
          var link = el("a", "", "Join again");
          link.href = room.getAttribute("data-rejoin");
          status.replaceChildren(document.createTextNode("Could not enter the room. "), link);
          return;
        }
        say("Connection lost; reconnecting…");
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }

    function send(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN || !welcomed) {
        say("Not connected yet; try again in a moment.");
        return false;
      }
      socket.send(JSON.stringify(frame));
      return true;
    }

    document.getElementById("cancel-reply").addEventListener("click", function () {
      replyTo = null;
      replying.hidden = true;
    });

    if (isHost) {
      var option = el("option", "", "Answer");
      option.value = "answer";
      kind.appendChild(option);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var content = text.value.trim();
      if (!content) return;
      var frame = { type: replyTo ? "answer" : kind.value, content: content };
      if (replyTo) frame.reply_to = replyTo;
      if (send(frame)) {
        text.value = "";
        replyTo = null;
        replying.hidden = true;
      }
    });

    renderPresence();
    connect();
  });
})();
