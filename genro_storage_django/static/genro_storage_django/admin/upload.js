"use strict";
// Uploads with a progress bar. Without this script the form posts normally.
(function () {
  function send(form, event) {
    var input = form.querySelector("input[type=file]");
    if (!window.FormData || !input || !input.files.length) {
      return;
    }
    event.preventDefault();
    var progress = form.querySelector(".storage-progress");
    var status = form.querySelector(".storage-upload-status");
    var button = form.querySelector("input[type=submit]");
    var xhr = new XMLHttpRequest();
    button.disabled = true;
    progress.hidden = false;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var percent = Math.round((e.loaded / e.total) * 100);
        progress.value = percent;
        status.textContent = percent + "%";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200) {
        progress.value = 100;
        status.textContent = "100%";
        window.location.assign(JSON.parse(xhr.responseText).location);
      } else {
        status.textContent = xhr.status + " " + xhr.statusText;
        button.disabled = false;
      }
    });
    xhr.addEventListener("error", function () {
      status.textContent = "\u2716";
      button.disabled = false;
    });
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.send(new FormData(form));
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-storage-upload]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        send(form, event);
      });
    });
  });
})();
