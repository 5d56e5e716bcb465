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

  // One request: its handle (to abort it) and a promise of its end. A
  // network error or a 5xx rejects with error.retry set.
  function request(method, url, headers, body, onProgress) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    Object.keys(headers || {}).forEach(function (key) {
      xhr.setRequestHeader(key, headers[key]);
    });
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && onProgress) {
        onProgress(event.loaded, event.total);
      }
    });
    var done = new Promise(function (resolve, reject) {
      function fail(text, retry) {
        var error = new Error(text);
        error.retry = retry;
        reject(error);
      }
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
        } else {
          fail(xhr.status + " " + xhr.statusText, xhr.status >= 500);
        }
      });
      xhr.addEventListener("error", function () { fail("network", true); });
      xhr.addEventListener("abort", function () { fail("abort", false); });
    });
    xhr.send(body);
    return {xhr: xhr, done: done};
  }

  function percent(loaded, total) {
    return total ? Math.floor((loaded / total) * 100) : 100;
  }

  // Send file to target: a multipart POST (fields first, the file last), a
  // PUT of the raw body with exactly the signed headers, or, for a file above
  // target.blocks.size, blocks then their list (Azure's Put Block and Put
  // Block List). Returns a handle (to abort it) and a promise of the target.
  function send(target, file, onProgress) {
    if (target.blocks && file.size > target.blocks.size) {
      return sendBlocks(target, file, onProgress);
    }
    var body = file;
    if (target.method === "POST") {
      body = new FormData();
      Object.keys(target.fields || {}).forEach(function (key) {
        body.append(key, target.fields[key]);
      });
      body.append("file", file);
    }
    var sent = request(target.method, target.url, target.headers, body, function (loaded, total) {
      if (onProgress) {
        onProgress(percent(loaded, total));
      }
    });
    return {xhr: sent.xhr, done: sent.done.then(function () { return target; })};
  }

  // Blocks in flight at once, and how often a failed one is sent again.
  var PARALLEL_BLOCKS = 4;
  var BLOCK_RETRIES = 2;

  // Azure refuses a block whose id has another length than the blob's
  // uncommitted ones: the length of adlfs's (base64 of 32 characters) lets
  // the mount's own writes of this name follow an abandoned upload.
  function blockId(index) {
    return btoa((ZEROS + index).slice(-32));
  }
  var ZEROS = "00000000000000000000000000000000";

  function blockList(count) {
    var ids = [];
    for (var index = 0; index < count; index += 1) {
      ids.push("<Latest>" + blockId(index) + "</Latest>");
    }
    return '<?xml version="1.0" encoding="utf-8"?><BlockList>' + ids.join("") + "</BlockList>";
  }

  function sendBlocks(target, file, onProgress) {
    var size = target.blocks.size;
    var count = Math.ceil(file.size / size);
    var loaded = [];
    var running = {};
    var next = 0;
    var stopped = false;

    function report() {
      var total = loaded.reduce(function (sum, bytes) { return sum + (bytes || 0); }, 0);
      if (onProgress) {
        onProgress(percent(total, file.size));
      }
    }

    function stage(index, attempt) {
      var url = target.url + "&comp=block&blockid=" + encodeURIComponent(blockId(index));
      var body = file.slice(index * size, (index + 1) * size);
      var sent = request("PUT", url, target.blocks.headers, body, function (bytes) {
        loaded[index] = bytes;
        report();
      });
      running[index] = sent.xhr;
      return sent.done.then(
        function () {
          delete running[index];
          loaded[index] = body.size;
          report();
        },
        function (error) {
          delete running[index];
          if (error.retry && !stopped && attempt < BLOCK_RETRIES) {
            loaded[index] = 0;
            return stage(index, attempt + 1);
          }
          throw error;
        }
      );
    }

    function worker() {
      if (stopped || next >= count) {
        return Promise.resolve();
      }
      var index = next;
      next += 1;
      return stage(index, 0).then(worker);
    }

    function stop() {
      stopped = true;
      Object.keys(running).forEach(function (key) { running[key].abort(); });
    }

    var workers = [];
    for (var slot = 0; slot < Math.min(PARALLEL_BLOCKS, count); slot += 1) {
      workers.push(worker());
    }
    var done = Promise.all(workers)
      .then(function () {
        if (stopped) {
          throw new Error("abort");
        }
        // Only this request makes the blob: before it, nothing is listed.
        var commit = request("PUT", target.url + "&comp=blocklist",
          target.blocks.commit_headers, blockList(count));
        running.commit = commit.xhr;
        return commit.done;
      })
      .then(function () { return target; }, function (error) {
        stop();
        throw error;
      });
    return {xhr: {abort: stop}, done: done};
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
