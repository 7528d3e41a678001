// The WebRTC fallback's call page: camera and microphone into an
// RTCPeerConnection, signalled over the booking's relay socket
// (/v1/bookings/{id}/signal, opened with the HttpOnly session cookie the
// page never sees). The provider offers whenever the relay says the other
// side is there; the client answers. Offers and answers are sent once ICE
// gathering is done (or after a few seconds), so a call needs one message
// each way; candidates the other side trickles are applied as they come.
// A dropped socket reconnects with backoff; "Leave" says goodbye and stops.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("call");
    if (!root || !window.WebSocket || !window.RTCPeerConnection) return;
    var role = root.getAttribute("data-role");
    var signalPath = root.getAttribute("data-signal");
    var iceServers = [];
    try { iceServers = JSON.parse(root.getAttribute("data-ice-servers") || "[]"); } catch (e) { iceServers = []; }
    var status = document.getElementById("call-status");
    var localVideo = document.getElementById("local-video");
    var remoteVideo = document.getElementById("remote-video");
    var leave = document.getElementById("leave-call");

    var socket = null;
    var peer = null;
    var stream = null;
    var queued = [];
    var left = false;
    var peerLeft = false;
    var delay = 500;

    function say(message, state) {
      status.textContent = message;
      if (state) root.setAttribute("data-state", state);
    }

    function send(frame) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    }

    function closePeer() {
      if (peer) { peer.onicecandidate = null; peer.ontrack = null; peer.onconnectionstatechange = null; peer.close(); }
      peer = null;
      queued = [];
      remoteVideo.srcObject = null;
    }

    function newPeer() {
      closePeer();
      peer = new RTCPeerConnection({ iceServers: iceServers });
      if (stream) {
        stream.getTracks().forEach(function (track) { peer.addTrack(track, stream); });
      } else {
        peer.addTransceiver("audio", { direction: "recvonly" });
        peer.addTransceiver("video", { direction: "recvonly" });
      }
      peer.ontrack = function (event) {
        remoteVideo.srcObject = event.streams[0] || new MediaStream([event.track]);
      };
      var current = peer;
      peer.onconnectionstatechange = function () {
        if (current !== peer) return;
        if (peer.connectionState === "connected") say("Connected.", "connected");
        else if (peer.connectionState === "failed") say("The connection failed. Waiting for the other side to try again…", "failed");
        else if (peer.connectionState === "disconnected") say("The connection dropped…", "reconnecting");
      };
      return peer;
    }

    // Resolves once ICE gathering is complete, or after three seconds.
    function gathered(pc) {
      return new Promise(function (resolve) {
        if (pc.iceGatheringState === "complete") return resolve();
        var timer = setTimeout(resolve, 3000);
        pc.addEventListener("icegatheringstatechange", function () {
          if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
        });
      });
    }

    function applyQueued(pc) {
      var waiting = queued;
      queued = [];
      waiting.forEach(function (candidate) { pc.addIceCandidate(candidate).catch(function () {}); });
    }

    function offer() {
      var pc = newPeer();
      say("The other side is here. Connecting…", "connecting");
      pc.createOffer()
        .then(function (description) { return pc.setLocalDescription(description); })
        .then(function () { return gathered(pc); })
        .then(function () { if (pc === peer) send({ type: "offer", sdp: pc.localDescription.sdp }); })
        .catch(function (err) { say("Could not start the call: " + err.message, "failed"); });
    }

    function answer(sdp) {
      var pc = newPeer();
      say("Connecting…", "connecting");
      pc.setRemoteDescription({ type: "offer", sdp: sdp })
        .then(function () { applyQueued(pc); return pc.createAnswer(); })
        .then(function (description) { return pc.setLocalDescription(description); })
        .then(function () { return gathered(pc); })
        .then(function () { if (pc === peer) send({ type: "answer", sdp: pc.localDescription.sdp }); })
        .catch(function (err) { say("Could not answer the call: " + err.message, "failed"); });
    }

    function received(frame) {
      switch (frame.type) {
        case "peer":
          if (frame.present) {
            peerLeft = false;
            if (role === "provider") offer();
            else say("The other side is here. Connecting…", "connecting");
          } else {
            closePeer();
            say(peerLeft ? "The other side left the call." : "Waiting for the other side to join…", "waiting");
          }
          break;
        case "offer":
          if (role === "client" && typeof frame.sdp === "string") answer(frame.sdp);
          break;
        case "answer":
          if (role === "provider" && peer && typeof frame.sdp === "string") {
            var pc = peer;
            pc.setRemoteDescription({ type: "answer", sdp: frame.sdp })
              .then(function () { applyQueued(pc); })
              .catch(function (err) { say("Could not connect: " + err.message, "failed"); });
          }
          break;
        case "ice":
          if (peer && peer.remoteDescription) peer.addIceCandidate(frame.candidate).catch(function () {});
          else queued.push(frame.candidate);
          break;
        case "bye":
          peerLeft = true;
          closePeer();
          say("The other side left the call.", "waiting");
          break;
        case "error":
          say(frame.message || "The relay refused a message.");
          break;
      }
    }

    function connect() {
      if (left) return;
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + signalPath);
      socket.onopen = function () {
        delay = 500;
        say("Waiting for the other side to join…", "waiting");
      };
      socket.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        received(frame);
      };
      socket.onclose = function (event) {
        socket = null;
        if (left) return;
        if (event.code === 4000) {
          closePeer();
          say("This call was opened in another window.", "replaced");
          return;
        }
        if (event.code === 1000) {
          closePeer();
          say("The session has ended.", "ended");
          return;
        }
        if (event.code === 4002) {
          closePeer();
          say("You were signed out. Sign in again to rejoin the call.", "signed-out");
          return;
        }
        say("Lost the connection. Reconnecting…", "reconnecting");
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }

    leave.addEventListener("click", function () {
      left = true;
      send({ type: "bye" });
      closePeer();
      if (socket) socket.close(1000);
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      localVideo.srcObject = null;
      leave.disabled = true;
      say("You left the call. Reload the page to join again.", "left");
    });

    var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      ? navigator.mediaDevices.getUserMedia({ audio: true, video: true })
      : Promise.reject(new Error("this browser has no camera access"));
    media
      .then(function (got) { stream = got; localVideo.srcObject = got; })
      .catch(function (err) {
        say("No camera or microphone (" + (err.name || err.message) + "): you can still see and hear the other side.");
      })
      .then(connect);
  });
})();
