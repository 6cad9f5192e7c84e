// Passkeys for the Betrokken console: a button with data-passkey asks the server for options,
// lets the browser make or use a passkey (@simplewebauthn/browser, loaded before this file) and
// sends the answer back. Without JavaScript the page says a passkey needs it.
(function () {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) throw json;
        return json;
      });
    });
  }

  function start(button) {
    var kind = button.getAttribute('data-passkey');
    var status = document.getElementById(button.getAttribute('aria-describedby') || '');
    button.disabled = true;
    post(button.getAttribute('data-options'))
      .then(function (options) {
        return kind === 'authenticate'
          ? webauthn.startAuthentication({ optionsJSON: options })
          : webauthn.startRegistration({ optionsJSON: options });
      })
      .then(function (answer) {
        return post(button.getAttribute('data-verify'), answer);
      })
      .then(function (result) {
        window.location.assign(result.redirect);
      })
      .catch(function (problem) {
        button.disabled = false;
        if (status) {
          status.textContent = (problem && problem.message) || button.getAttribute('data-failed');
          status.hidden = false;
        }
      });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var supported = webauthn && webauthn.browserSupportsWebAuthn();
    document.querySelectorAll('[data-needs-js]').forEach(function (note) {
      if (supported) note.hidden = true;
    });
    document.querySelectorAll('button[data-passkey]').forEach(function (button) {
      if (!supported) return;
      button.hidden = false;
      button.addEventListener('click', function () {
        start(button);
      });
    });
  });
})();
