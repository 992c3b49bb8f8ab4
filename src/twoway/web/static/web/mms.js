// Pictures and videos attached to the composer (templates/web/_composer_mms.html): picked with
// the camera button, dropped onto the composer or pasted into it. The files live in the
// composer's file input, so Send posts them with the text; this only checks them at once (the
// server checks them again, and is the authority) and shows what will go.
(function () {
  "use strict";

  var NAMES = {
    "image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP",
    "video/mp4": "MP4", "video/3gpp": "3GP"
  };

  // What a file is by its first bytes, as media/sniffing.py reads them; null: not allowed.
  function sniff(bytes) {
    function at(offset, text) {
      for (var i = 0; i < text.length; i++) {
        if (bytes[offset + i] !== text.charCodeAt(i)) return false;
      }
      return true;
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
    if (bytes[0] === 0x89 && at(1, "PNG\r\n\x1a\n")) return "image/png";
    if (at(0, "GIF87a") || at(0, "GIF89a")) return "image/gif";
    if (at(0, "RIFF") && at(8, "WEBP")) return "image/webp";
    if (at(4, "ftyp")) return at(8, "3gp") || at(8, "3g2") ? "video/3gpp" : "video/mp4";
    return null;
  }

  function typeOf(file) {
    return file.slice(0, 32).arrayBuffer().then(function (buffer) {
      return sniff(new Uint8Array(buffer));
    });
  }

  function megabytes(size) {
    return (size / 1048576).toFixed(1) + " MB";
  }

  function parts(box) {
    return {
      input: box.querySelector("[data-mms-input]"),
      previews: box.querySelector("[data-mms-previews]"),
      warning: box.querySelector("[data-mms-warning]"),
      error: box.querySelector("[data-mms-error]"),
      kind: box.querySelector("[data-mms-kind]"),
      warnBytes: Number(box.getAttribute("data-mms-warn-bytes")),
      maxBytes: Number(box.getAttribute("data-mms-max-bytes")),
      maxFiles: Number(box.getAttribute("data-mms-max-files"))
    };
  }

  function refuse(box, message) {
    var p = parts(box);
    p.error.textContent = message;
    p.error.hidden = !message;
  }

  function setFiles(box, files) {
    var p = parts(box);
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    p.input.files = transfer.files;
    draw(box);
  }

  function draw(box) {
    var p = parts(box);
    var files = Array.prototype.slice.call(p.input.files);
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    p.previews.textContent = "";
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      var url = URL.createObjectURL(file);
      var shown = document.createElement(file.type.indexOf("video/") === 0 ? "video" : "img");
      shown.src = url;
      shown.className = "mms-preview";
      if (shown.tagName === "IMG") shown.alt = file.name;
      else shown.setAttribute("aria-label", file.name);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "mms-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(url);
        var kept = Array.prototype.slice.call(p.input.files);
        kept.splice(index, 1);
        refuse(box, "");
        setFiles(box, kept);
      });
      var size = document.createElement("span");
      size.className = "mms-size";
      size.textContent = megabytes(file.size);
      item.append(shown, size, remove);
      p.previews.append(item);
    });
    p.previews.hidden = files.length === 0;
    p.kind.hidden = files.length === 0;
    p.warning.hidden = total <= p.warnBytes;
    box.closest("form").classList.toggle("has-media", files.length > 0);
  }

  // Adds `added` to what is attached, unless together they break a rule: then nothing is added
  // and the composer says why.
  function add(box, added) {
    var p = parts(box);
    var current = Array.prototype.slice.call(p.input.files);
    var files = current.concat(added);
    if (!added.length) return;
    if (files.length > p.maxFiles) {
      refuse(box, "An MMS carries at most " + p.maxFiles + " pictures or videos; that would be " +
        files.length + ".");
      return;
    }
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    if (total > p.maxBytes) {
      refuse(box, "The attachments would come to " + megabytes(total) + "; an MMS carries at most " +
        megabytes(p.maxBytes) + " in total.");
      return;
    }
    Promise.all(added.map(typeOf)).then(function (types) {
      for (var i = 0; i < added.length; i++) {
        if (!types[i]) {
          refuse(box, "“" + added[i].name + "” is not a picture or video an MMS can carry (" +
            Object.keys(NAMES).map(function (k) { return NAMES[k]; }).join(", ") + ").");
          return;
        }
      }
      refuse(box, "");
      setFiles(box, files);
    });
  }

  function boxOf(element) {
    var form = element && element.closest && element.closest("form.composer");
    return form ? form.querySelector("[data-mms]") : null;
  }

  document.addEventListener("click", function (event) {
    var pick = event.target.closest && event.target.closest("[data-mms-pick]");
    if (!pick) return;
    var box = pick.closest("[data-mms]");
    // A separate picker: what it picks is added to (not put in place of) what is attached.
    var picker = document.createElement("input");
    picker.type = "file";
    picker.multiple = true;
    picker.accept = parts(box).input.accept;
    picker.addEventListener("change", function () {
      add(box, Array.prototype.slice.call(picker.files));
    });
    picker.click();
  });

  document.addEventListener("dragover", function (event) {
    if (boxOf(event.target) && event.dataTransfer && event.dataTransfer.types.indexOf("Files") >= 0) {
      event.preventDefault();
      event.target.closest("form.composer").classList.add("dropping");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var form = event.target.closest && event.target.closest("form.composer");
    if (form) form.classList.remove("dropping");
  });
  document.addEventListener("drop", function (event) {
    var box = boxOf(event.target);
    if (!box || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    event.target.closest("form.composer").classList.remove("dropping");
    add(box, Array.prototype.slice.call(event.dataTransfer.files));
  });
  document.addEventListener("paste", function (event) {
    var box = boxOf(event.target);
    var files = event.clipboardData ? Array.prototype.slice.call(event.clipboardData.files) : [];
    if (!box || !files.length) return;
    event.preventDefault();
    add(box, files);
  });

  // Tests and the phone page's own picker share the checks.
  window.twowayMms = { add: add, sniff: sniff };
})();
