"use strict";
// The folder page: selection for the bulk actions, the row menus of small
// screens, and uploads of dropped files and folders. Without this script the
// checkboxes and links still work; only drag and drop needs it.
(function () {
  var PARALLEL = 3;

  function setUpSelection(page) {
    var form = page.querySelector("#storage-bulk");
    if (!form) {
      return;
    }
    var all = page.querySelector(".storage-select-all");
    var boxes = Array.prototype.slice.call(page.querySelectorAll(".storage-select"));
    var status = form.querySelector(".storage-selected");
    var buttons = form.querySelectorAll("button[name=action]");
    var across = setUpAcross(form, function () {
      boxes.forEach(function (box) { box.checked = false; });
      update();
    });
    function update() {
      var count = boxes.filter(function (box) { return box.checked; }).length;
      var whole = count > 0 && count === boxes.length;
      across.offer(whole);
      status.textContent = count && !across.on() ? form.dataset.selectedLabel + " " + count : "";
      buttons.forEach(function (button) { button.disabled = count === 0; });
      if (all) {
        all.checked = whole;
        all.indeterminate = count > 0 && count < boxes.length;
      }
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (all) {
      all.hidden = boxes.length === 0;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    update();
  }

  // "Select all N items", as in Django's change list: offered once every box
  // of the page is ticked, it posts select_across=1 (the server lists the
  // folder again) until a box is unticked or the selection is cleared.
  function setUpAcross(form, clearBoxes) {
    var flag = form.querySelector("input[name=select_across]");
    var bar = form.querySelector(".storage-across");
    if (!bar) {
      return {offer: function () {}, on: function () { return false; }};
    }
    var select = bar.querySelector(".storage-across-select");
    var done = bar.querySelector(".storage-across-all");
    var clear = bar.querySelector(".storage-across-clear");
    function set(on) {
      flag.value = on ? "1" : "0";
      select.hidden = on;
      done.hidden = !on;
      clear.hidden = !on;
    }
    select.addEventListener("click", function () {
      set(true);
      form.querySelector(".storage-selected").textContent = "";
      clear.focus();
    });
    clear.addEventListener("click", function () {
      set(false);
      clearBoxes();
    });
    set(false);  // a page restored from history starts over
    return {
      offer: function (whole) {
        bar.hidden = !whole;
        if (!whole) {
          set(false);
        }
      },
      on: function () { return flag.value === "1"; }
    };
  }

  function setUpMenus(page) {
    page.querySelectorAll(".storage-menu-button").forEach(function (button) {
      var cell = button.parentElement;
      button.hidden = false;
      function close() {
        cell.classList.remove("storage-open");
        button.setAttribute("aria-expanded", "false");
      }
      button.addEventListener("click", function () {
        var open = !cell.classList.contains("storage-open");
        page.querySelectorAll(".storage-actions.storage-open").forEach(function (other) {
          other.classList.remove("storage-open");
          other.querySelector(".storage-menu-button").setAttribute("aria-expanded", "false");
        });
        cell.classList.toggle("storage-open", open);
        button.setAttribute("aria-expanded", String(open));
        if (open) {
          var first = cell.querySelector(".storage-action-links a");
          if (first) {
            first.focus();
          }
        }
      });
      cell.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && cell.classList.contains("storage-open")) {
          close();
          button.focus();
        }
      });
    });
  }

  // Drag and drop: every file is posted on its own, with its path below the
  // folder it was dropped into, so the server rebuilds the folder structure.
  function readDirectory(entry, prefix, found) {
    return new Promise(function (resolve) {
      var reader = entry.createReader();
      var children = [];
      function next() {
        reader.readEntries(function (batch) {
          if (!batch.length) {
            Promise.all(children.map(function (child) {
              return walk(child, prefix + entry.name + "/", found);
            })).then(resolve);
            return;
          }
          children = children.concat(Array.prototype.slice.call(batch));
          next();
        }, function () { resolve(); });
      }
      next();
    });
  }

  function walk(entry, prefix, found) {
    if (entry.isDirectory) {
      return readDirectory(entry, prefix, found);
    }
    return new Promise(function (resolve) {
      entry.file(function (file) {
        found.push({file: file, path: prefix + file.name});
        resolve();
      }, function () { resolve(); });
    });
  }

  function collect(dataTransfer) {
    var found = [];
    var waits = [];
    var items = dataTransfer.items ? Array.prototype.slice.call(dataTransfer.items) : [];
    items.forEach(function (item) {
      var entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      if (entry) {
        waits.push(walk(entry, "", found));
      } else if (item.kind === "file") {
        var file = item.getAsFile();
        if (file) {
          found.push({file: file, path: file.name});
        }
      }
    });
    if (!items.length) {
      Array.prototype.forEach.call(dataTransfer.files, function (file) {
        found.push({file: file, path: file.name});
      });
    }
    return Promise.all(waits).then(function () { return found; });
  }

  function Queue(zone, token) {
    this.zone = zone;
    this.token = token;
    this.list = zone.querySelector(".storage-queue");
    this.done = zone.querySelector(".storage-queue-done");
    this.waiting = [];
    this.running = 0;
    this.left = 0;
  }

  Queue.prototype.add = function (found) {
    var queue = this;
    found.forEach(function (item) {
      var row = document.createElement("li");
      var name = document.createElement("span");
      var progress = document.createElement("progress");
      var status = document.createElement("span");
      var cancel = document.createElement("button");
      name.className = "storage-queue-name";
      name.textContent = item.path;
      progress.max = 100;
      progress.value = 0;
      progress.setAttribute("aria-label", item.path);
      status.className = "storage-queue-status";
      status.textContent = queue.zone.dataset.waitingLabel;
      cancel.type = "button";
      cancel.className = "button storage-cancel";
      cancel.textContent = queue.zone.dataset.cancelLabel;
      row.append(name, progress, status, cancel);
      queue.list.appendChild(row);
      var task = {item: item, row: row, progress: progress, status: status, xhr: null, over: false};
      cancel.addEventListener("click", function () { queue.cancel(task); });
      queue.waiting.push(task);
      queue.left += 1;
    });
    this.done.hidden = true;
    this.pump();
  };

  Queue.prototype.finish = function (task, state, text) {
    if (task.over) {
      return;
    }
    task.over = true;
    task.row.dataset.state = state;
    task.status.textContent = text;
    task.row.querySelector(".storage-cancel").disabled = true;
    this.left -= 1;
    if (task.xhr) {
      this.running -= 1;
    }
    if (this.left === 0) {
      this.done.hidden = false;
    }
    this.pump();
  };

  Queue.prototype.cancel = function (task) {
    if (task.xhr) {
      task.xhr.abort();
    }
    this.finish(task, "cancelled", this.zone.dataset.cancelledLabel);
  };

  Queue.prototype.pump = function () {
    while (this.running < PARALLEL && this.waiting.length) {
      var task = this.waiting.shift();
      if (!task.over) {
        this.send(task);
      }
    }
  };

  // A file above the page's threshold, on a mount that signs targets, goes
  // straight to the bucket (direct_upload.js); the rest is posted here.
  Queue.prototype.isDirect = function (file) {
    var size = this.zone.dataset.directSize;
    return Boolean(size && window.genroStorageDirectUpload && file.size > Number(size));
  };

  Queue.prototype.progress = function (task, percent) {
    task.progress.value = percent;
    task.status.textContent = percent + "%";
  };

  Queue.prototype.sendDirect = function (task) {
    var queue = this;
    var direct = window.genroStorageDirectUpload;
    var dataset = this.zone.dataset;
    var file = task.item.file;
    var current = null;
    // One handle for cancel() and the running count, whichever request is on.
    task.xhr = {abort: function () { current.abort(); }};
    this.running += 1;
    task.status.textContent = "0%";
    function step(request) {
      current = request.xhr;
      return request.done;
    }
    var fields = direct.targetFields("", file);
    delete fields.grant;
    fields.relative_path = task.item.path;
    step(direct.postJSON(dataset.directTargetUrl, fields, this.token, dataset.failedLabel))
      .then(function (target) {
        return step(direct.send(target, file, function (percent) {
          queue.progress(task, percent);
        }));
      })
      .then(function (target) {
        return step(direct.postJSON(
          dataset.directDoneUrl, {ticket: target.ticket}, queue.token, dataset.failedLabel
        ));
      })
      .then(function (answer) {
        // As for a post here: only the view's own JSON answer means saved.
        if (answer.location) {
          task.progress.value = 100;
          queue.finish(task, "done", dataset.doneLabel);
        } else {
          queue.finish(task, "failed", dataset.loginLabel);
        }
      })
      .catch(function (error) {
        queue.finish(task, "failed", error.code ? error.message : dataset.failedLabel);
      });
  };

  Queue.prototype.send = function (task) {
    var queue = this;
    if (this.isDirect(task.item.file)) {
      this.sendDirect(task);
      return;
    }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", this.token);
    data.append("files", task.item.file, task.item.file.name);
    data.append("relative_path", task.item.path);
    data.append("quiet", "1");
    var xhr = new XMLHttpRequest();
    task.xhr = xhr;
    this.running += 1;
    task.status.textContent = "0%";
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        queue.progress(task, Math.round((event.loaded / event.total) * 100));
      }
    });
    xhr.addEventListener("load", function () {
      // XMLHttpRequest follows redirects: an expired session ends on the
      // login page with a 200 too. Only the view's own JSON answer means saved.
      if (xhr.status === 200 && xhr.response && xhr.response.location) {
        task.progress.value = 100;
        queue.finish(task, "done", queue.zone.dataset.doneLabel);
      } else if (xhr.status === 200) {
        queue.finish(task, "failed", queue.zone.dataset.loginLabel);
      } else {
        queue.finish(task, "failed", xhr.status + " " + xhr.statusText);
      }
    });
    xhr.addEventListener("error", function () {
      queue.finish(task, "failed", queue.zone.dataset.failedLabel);
    });
    xhr.open("POST", this.zone.dataset.uploadUrl);
    xhr.responseType = "json";
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.send(data);
  };

  // The upload form posts all its files in one request (upload.js); when one
  // of them would go direct, they all join the queue instead.
  function setUpForm(page, queue) {
    var form = page.querySelector("form[data-storage-upload]");
    if (!form) {
      return;
    }
    // Capture, on the page: before upload.js's handler on the form.
    page.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var files = Array.prototype.slice.call((input && input.files) || []);
      if (event.target !== form || !files.some(function (file) { return queue.isDirect(file); })) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      queue.add(files.map(function (file) { return {file: file, path: file.name}; }));
      input.value = "";
    }, true);
  }

  function setUpDrop(page) {
    var zone = page.querySelector("[data-storage-drop]");
    var tokenInput = page.querySelector(".storage-upload input[name=csrfmiddlewaretoken]");
    if (!zone || !tokenInput) {
      return;
    }
    zone.hidden = false;
    var queue = new Queue(zone, tokenInput.value);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("storage-dragging");
      });
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("storage-dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("storage-dragging");
      collect(event.dataTransfer).then(function (found) { queue.add(found); });
    });
    setUpForm(page, queue);
    var folderInput = zone.querySelector(".storage-folder-input");
    folderInput.addEventListener("change", function () {
      var found = Array.prototype.map.call(folderInput.files, function (file) {
        return {file: file, path: file.webkitRelativePath || file.name};
      });
      queue.add(found);
      folderInput.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector(".storage-directory");
    if (!page) {
      return;
    }
    setUpSelection(page);
    setUpMenus(page);
    setUpDrop(page);
  });
})();
