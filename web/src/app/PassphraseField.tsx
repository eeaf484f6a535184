// The passphrase input with show/hide and a random word-passphrase generator.
import { useState } from 'react'
import { generatePassphrase, passphraseHint } from './passphrase'

interface Props {
  value: string
  onChange(v: string): void
  disabled?: boolean
}

export function PassphraseField({ value, onChange, disabled }: Props) {
  const [shown, setShown] = useState(false)
  const hint = passphraseHint(value)

  const generate = () => {
    onChange(generatePassphrase())
    setShown(true) // a generated passphrase is meant to be read and written down
  }

  return (
    <div className="field">
      <label htmlFor="passphrase">Passphrase</label>
      <div className="input-row">
        <input id="passphrase" data-testid="passphrase" type={shown ? 'text' : 'password'}
          value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}
          autoComplete="off" autoCapitalize="off" autoCorrect="off" spellCheck={false}
          aria-describedby="passphrase-help" required />
        <button type="button" className="button secondary" onClick={() => setShown((s) => !s)}
          aria-pressed={shown} aria-controls="passphrase" data-testid="passphrase-toggle">
          {shown ? 'Hide' : 'Show'}
        </button>
      </div>
      <div className="field-foot">
        <p id="passphrase-help" className="help">
          {hint ?? 'Everyone in the session uses the same passphrase. It never leaves this device.'}
        </p>
        <button type="button" className="link-button" onClick={generate} disabled={disabled}
          data-testid="passphrase-generate">
          Generate one
        </button>
      </div>
    </div>
  )
}
