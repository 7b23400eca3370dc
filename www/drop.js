// Files dropped anywhere on the page or pasted into it.

/**
 * Calls `onFile(file)` for the first file of each drop or paste; the page gets the class
 * `dragging` while files are dragged over it.
 * @param {(file: File) => void} onFile
 */
export function receiveFiles(onFile) {
  const body = document.body;
  let depth = 0;
  const carriesFiles = (event) => event.dataTransfer?.types.includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    body.classList.add("dragging");
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) body.classList.remove("dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    body.classList.remove("dragging");
    const [file] = event.dataTransfer.files;
    if (file) onFile(file);
  });
  document.addEventListener("paste", (event) => {
    const [file] = event.clipboardData?.files ?? [];
    if (!file) return;
    event.preventDefault();
    onFile(file);
  });
}
