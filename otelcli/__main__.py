from otelcli.cli import main

main()
