/** How a number typed by a person is read (decimal only), shared by the CLI and the UI's form. */
export { decimalNumber } from '../engine/schema/decimal';
