import { render, screen } from '@testing-library/react'
import { version } from 'react'
import { version as domVersion } from 'react-dom'
import { describe, expect, it } from 'vitest'

// The `react18` project runs every test of this package again on React 18 (see vitest.config.ts).
const major = process.env.TOKENFLIGHT_REACT_MAJOR ?? '19'

describe(`React ${major}`, () => {
  it('runs the tests on the intended React and renders through one copy of it', () => {
    expect(version.split('.')[0]).toBe(major)
    expect(domVersion).toBe(version)
    render(<p>rendered by {version}</p>)
    expect(screen.getByText(`rendered by ${version}`)).toBeTruthy()
  })
})
