"use strict";
// Direct uploads: the browser sends a file's bytes to the target the server
// signed (the bucket, or the app's own upload view), then the form posts only
// the ticket. Without this script the file input posts the file with the form.
// window.genroStorageDirectUpload is shared with the admin browser.
(function () {
  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) {
      return input.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function failure(xhr, fallback) {
    var answer = xhr.response;
    var error = new Error(answer && answer.error ? answer.error : fallback);
    error.code = answer && answer.code;
    return error;
  }

  // POST the form fields to url. Returns the request (to abort it) and a
  // promise of the JSON answer of a 200 (an error answer rejects it).
  function postJSON(url, fields, token, fallback) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    var done = new Promise(function (resolve, reject) {
      xhr.addEventListener("load", function () {
        if (xhr.status === 200 && xhr.response && !xhr.response.error) {
          resolve(xhr.response);
        } else {
          reject(failure(xhr, fallback || xhr.status + " " + xhr.statusText));
        }
      });
      xhr.addEventListener("error", function () { reject(failure(xhr, fallback)); });
      xhr.addEventListener("abort", function () { reject(new Error("abort")); });
    });
    xhr.send(data);
    return {xhr: xhr, done: done};
  }

  // Send file to target: a multipart POST (fields first, the file last) or a
  // PUT of the raw body with exactly the signed headers. Returns the request
  // (to abort it) and a promise of its end.
  function send(target, file, onProgress) {
    var xhr = new XMLHttpRequest();
    var body = file;
    xhr.open(target.method, target.url);
    if (target.method === "POST") {
      body = new FormData();
      Object.keys(target.fields || {}).forEach(function (key) {
        body.append(key, target.fields[key]);
      });
      body.append("file", file);
    } else {
      Object.keys(target.headers || {}).forEach(function (key) {
        xhr.setRequestHeader(key, target.headers[key]);
      });
    }
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && onProgress) {
        onProgress(Math.round((event.loaded / event.total) * 100));
      }
    });
    var done = new Promise(function (resolve, reject) {
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(target);
        } else {
          reject(new Error(xhr.status + " " + xhr.statusText));
        }
      });
      xhr.addEventListener("error", function () { reject(new Error("network")); });
      xhr.addEventListener("abort", function () { reject(new Error("abort")); });
    });
    xhr.send(body);
    return {xhr: xhr, done: done};
  }

  function targetFields(grant, file) {
    return {
      grant: grant,
      filename: file.name,
      size: String(file.size),
      // Empty: the server takes the type the name suggests.
      content_type: file.type || ""
    };
  }

  window.genroStorageDirectUpload = {
    csrfToken: csrfToken,
    postJSON: postJSON,
    send: send,
    targetFields: targetFields
  };

  // The form field's widget.
  function upload(widget, input) {
    var file = input.files[0];
    var ticket = widget.querySelector("[data-storage-ticket]");
    var progress = widget.querySelector("progress");
    var status = widget.querySelector(".storage-direct-upload-status");
    var form = input.form;
    ticket.value = "";
    if (!file) {
      return;
    }
    widget.dataset.state = "uploading";
    progress.hidden = false;
    progress.value = 0;
    status.textContent = widget.dataset.uploadingLabel + " 0%";
    var fields = targetFields(widget.dataset.grant, file);
    postJSON(widget.dataset.targetUrl, fields, csrfToken(form), widget.dataset.failedLabel).done
      .then(function (target) {
        return send(target, file, function (percent) {
          progress.value = percent;
          status.textContent = widget.dataset.uploadingLabel + " " + percent + "%";
        }).done;
      })
      .then(function (target) {
        ticket.value = target.ticket;
        // The bytes are where they belong: the form must not post them again,
        // and the emptied input must not stop it as a required one would.
        input.value = "";
        if (input.required) {
          input.dataset.storageRequired = "1";
          input.required = false;
        }
        progress.value = 100;
        widget.dataset.state = "done";
        status.textContent = widget.dataset.uploadedLabel + " " + target.name;
      })
      .catch(function (error) {
        input.value = "";
        input.required = Boolean(input.dataset.storageRequired) || input.required;
        progress.hidden = true;
        widget.dataset.state = "failed";
        status.textContent = error.code ? error.message : widget.dataset.failedLabel;
      });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var widget = input.closest && input.closest("[data-storage-direct-upload]");
    if (widget && input.type === "file" && window.FormData) {
      upload(widget, input);
    }
  });

  document.addEventListener("submit", function (event) {
    var busy = event.target.querySelector("[data-storage-direct-upload][data-state=uploading]");
    if (busy) {
      event.preventDefault();
      busy.querySelector(".storage-direct-upload-status").textContent = busy.dataset.busyLabel;
    }
  });
})();
