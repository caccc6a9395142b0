from shipdeck.cli.entry import main

raise SystemExit(main())
