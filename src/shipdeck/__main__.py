from shipdeck.cli.main import main

raise SystemExit(main())
