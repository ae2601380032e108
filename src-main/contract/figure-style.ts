/** The exported figures' one style (palette, colours, canvas, text sizes), shared with the renderer. */
export * from '../engine/report/figure-style';
