from remediation.cli.main import main

main()
