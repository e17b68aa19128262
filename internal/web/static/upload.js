// ccbulk upload.js, version 1 (the page pins its SHA-384: web.uploadScript).
//
// Drag and drop for the upload form, and nothing else: a file dropped on
// the drop zone is put into the form's own file input (as if picked with
// it), and the chosen file's name is shown. Without this script the form
// works the same with the file picker. No framework, no inline script
// (the pages' Content-Security-Policy allows only the site's own files).
(function () {
  "use strict";
  var input = document.getElementById("file");
  var zone = document.getElementById("dropzone");
  var hint = document.getElementById("drophint");
  var chosen = document.getElementById("dropfile");
  var name = document.getElementById("dropname");
  if (!input || !zone || !hint || !chosen || !name || typeof DataTransfer === "undefined") {
    return;
  }
  hint.hidden = false;

  function show() {
    var f = input.files && input.files.length > 0 ? input.files[0] : null;
    name.textContent = f ? f.name : "";
    chosen.hidden = !f;
  }

  function over(e) {
    e.preventDefault();
    if (e.dataTransfer) {
      e.dataTransfer.dropEffect = "copy";
    }
    zone.classList.add("over");
  }

  function leave() {
    zone.classList.remove("over");
  }

  zone.addEventListener("dragenter", over);
  zone.addEventListener("dragover", over);
  zone.addEventListener("dragleave", leave);
  zone.addEventListener("dragend", leave);
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    leave();
    var files = e.dataTransfer ? e.dataTransfer.files : null;
    if (!files || files.length === 0) {
      return;
    }
    var dt = new DataTransfer();
    dt.items.add(files[0]); // one file: the form takes one
    input.files = dt.files;
    show();
    input.focus();
  });
  input.addEventListener("change", show);
  show();
})();
