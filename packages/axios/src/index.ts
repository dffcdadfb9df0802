export { x } from '@tokenflight/core'
