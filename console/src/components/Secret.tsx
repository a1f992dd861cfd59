// A secret the server shows once (an API token, an invitation code), with a copy button.
import { useState } from "preact/hooks";

export function Secret({ label, value, note }: { label: string; value: string; note?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard API outside secure contexts: select the text for the person to copy.
      const input = document.getElementById("secret-value") as HTMLInputElement | null;
      input?.select();
      document.execCommand("copy");
    }
    setCopied(true);
  };
  return (
    <div class="secret" role="region" aria-label={label}>
      <label>
        {label}
        <input id="secret-value" class="mono" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" onClick={() => void copy()}>
        {copied ? "Copied" : "Copy"}
      </button>
      <p class="hint">{note ?? "Shown once: copy it now. Only its digest is stored."}</p>
    </div>
  );
}
