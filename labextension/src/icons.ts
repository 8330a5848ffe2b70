import { LabIcon } from '@jupyterlab/ui-components';

/** A notebook page with a check mark; `jp-icon3` makes it follow the theme. */
const logoSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M6 2h9l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm0 2v16h12V8h-4V4H6z"/>
    <path d="M8.3 13.3l1.4-1.4 1.8 1.8 3.8-3.8 1.4 1.4-5.2 5.2z"/>
  </g>
</svg>`;

export const nbopsIcon = new LabIcon({ name: 'nbops:logo', svgstr: logoSvg });
