import { useDemo } from './demoContext'

export function ModeBadge() {
  const { backend } = useDemo()
  return (
    <span
      className="mode-badge"
      data-testid="mode-badge"
      title={backend.baseUrl}
    >
      <span className="mode-dot" aria-hidden="true" />
      {backend.kind === 'service-worker'
        ? 'Mock API in a service worker'
        : `API ${backend.baseUrl}`}
    </span>
  )
}
