import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { SessionProvider } from '@tokenflight/react'
import { App } from './App'
import { startBackend } from './backend'
import { createDemoClient } from './client'
import { DemoContext } from './demoContext'
import './styles.css'

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element')
const root = createRoot(container)

function Splash({ title, detail }: { title: string; detail?: string }) {
  return (
    <div className="splash" data-testid="splash">
      <div className="brand-mark" aria-hidden="true" />
      <h1>{title}</h1>
      {detail ? <p>{detail}</p> : null}
    </div>
  )
}

root.render(<Splash title="Starting the mock API…" />)

startBackend().then(
  (backend) => {
    const demo = createDemoClient(backend)
    root.render(
      <StrictMode>
        <DemoContext.Provider value={demo}>
          <SessionProvider session={demo.session}>
            <App />
          </SessionProvider>
        </DemoContext.Provider>
      </StrictMode>,
    )
  },
  (error: unknown) => {
    const api = import.meta.env.VITE_TOKENFLIGHT_API
    root.render(
      <Splash
        title={
          api ? `Cannot reach the API at ${api}` : 'The mock API did not start'
        }
        detail={
          api
            ? 'Start it with `pnpm demo:server`, or unset VITE_TOKENFLIGHT_API to run the mock API in the browser.'
            : String(error)
        }
      />,
    )
  },
)
