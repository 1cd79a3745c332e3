// A button with data-copy="ID" selects the text field ID and copies its value.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(
      () => { button.textContent = "복사했습니다"; },
      () => { button.textContent = "선택했습니다: Ctrl+C로 복사하세요"; },
    );
  }
});
