// irsa-lint for VS Code: a language client that starts `irsa-lint lsp` and shows its
// findings. All the linting is irsa-lint's; this file only finds the binary and says which
// files the server cares about. Plain JavaScript, so the extension needs no build step.
'use strict';

const vscode = require('vscode');
const { LanguageClient, RevealOutputChannelOn } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

// The files irsa-lint reads (README.md, "Usage"), by pattern: .tf files are plain text in
// a VS Code without a Terraform extension, so a language id alone would miss them.
const FILE_PATTERNS = [
  '**/*.{tf,tfvars,tftpl,hcl}',
  '**/*.tf.json',
  '**/*.{yaml,yml,json}',
  '**/*.{yaml,yml}.tpl',
];

async function activate(context) {
  const settings = vscode.workspace.getConfiguration('irsa-lint');
  const command = settings.get('path') || 'irsa-lint';
  const serverOptions = {
    run: { command, args: ['lsp'] },
    debug: { command, args: ['lsp'] },
  };
  const clientOptions = {
    documentSelector: FILE_PATTERNS.map((pattern) => ({ scheme: 'file', pattern })),
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  client = new LanguageClient('irsa-lint', 'irsa-lint', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('irsa-lint.path')) {
        vscode.window.showInformationMessage(
          'irsa-lint: reload the window to start the new irsa-lint.path',
        );
      }
    }),
  );
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `irsa-lint: could not start \`${command} lsp\` (${error}). Install irsa-lint ` +
        '(`pip install irsa-lint`, `cargo install irsa-lint` or a release binary) or set ' +
        'irsa-lint.path.',
    );
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
