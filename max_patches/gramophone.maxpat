{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 6,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   60.0,
   80.0,
   1180.0,
   820.0
  ],
  "openinpresentation": 0,
  "default_fontsize": 12.0,
  "gridsize": [
   15.0,
   15.0
  ],
  "description": "Gramophone client for Max",
  "boxes": [
   {
    "box": {
     "id": "title",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      10,
      420.0,
      22.0
     ],
     "text": "Gramophone: render a clip in the style of a preset. Start the server first: gramophone serve"
    }
   },
   {
    "box": {
     "id": "c_conn",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      40,
      420.0,
      22.0
     ],
     "text": "1. On load: replies are registered on port 7771 (udpsend sends from a random port), the preset menu is filled from the server, and the work folder is set."
    }
   },
   {
    "box": {
     "id": "load",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20,
      70,
      68.0,
      22.0
     ],
     "text": "loadbang",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "refresh",
     "maxclass": "textbutton",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      110,
      70,
      117.0,
      22.0
     ],
     "text": "Refresh presets",
     "outlettype": [
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "t_load",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 4,
     "patching_rect": [
      20,
      100,
      75.0,
      22.0
     ],
     "text": "t b b b b",
     "outlettype": [
      "",
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "msg_reply",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      330,
      130,
      166.0,
      22.0
     ],
     "text": "/gramophone/reply 7771",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "msg_clear",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      250,
      130,
      47.0,
      22.0
     ],
     "text": "clear",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "msg_presets",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      110,
      130,
      145.0,
      22.0
     ],
     "text": "/gramophone/presets",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "udp_out",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      110,
      480,
      166.0,
      22.0
     ],
     "text": "udpsend 127.0.0.1 7770"
    }
   },
   {
    "box": {
     "id": "menu",
     "maxclass": "umenu",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      250,
      160,
      160.0,
      22.0
     ],
     "outlettype": [
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "c_in",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      500,
      40,
      420.0,
      22.0
     ],
     "text": "2. Drop an audio file on the box below, click read, or record into buffer~ gramophone_in."
    }
   },
   {
    "box": {
     "id": "drop",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      500,
      70,
      200.0,
      22.0
     ],
     "text": "dropfile",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_replace_in",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      500,
      100,
      117.0,
      22.0
     ],
     "text": "prepend replace",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "msg_read",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      640,
      100,
      40.0,
      22.0
     ],
     "text": "read",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "buf_in",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      500,
      140,
      159.0,
      22.0
     ],
     "text": "buffer~ gramophone_in",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "adc",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      760,
      70,
      54.0,
      22.0
     ],
     "text": "adc~ 1",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "rec_toggle",
     "maxclass": "toggle",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      840,
      70,
      22.0,
      22.0
     ],
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "record",
     "maxclass": "newobj",
     "numinlets": 3,
     "numoutlets": 1,
     "patching_rect": [
      760,
      110,
      159.0,
      22.0
     ],
     "text": "record~ gramophone_in",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "c_folder",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      200,
      420.0,
      22.0
     ],
     "text": "3. Work folder: the clip is written there and renders land there as gramophone-render-N.wav. It must be absolute and allowed by the server (the temporary folder, ~/Music and ~/Documents are; else start it with --allow-dir). Paths may contain spaces."
    }
   },
   {
    "box": {
     "id": "msg_folder",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      250,
      40.0,
      22.0
     ],
     "text": "/tmp",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "choose",
     "maxclass": "textbutton",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      110,
      250,
      110.0,
      22.0
     ],
     "text": "Choose folder\u2026",
     "outlettype": [
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "dialog",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      110,
      280,
      117.0,
      22.0
     ],
     "text": "opendialog fold",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "conform",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      110,
      310,
      166.0,
      22.0
     ],
     "text": "conformpath slash boot",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_set_folder",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      110,
      340,
      89.0,
      22.0
     ],
     "text": "prepend set",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "t_folder",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      20,
      370,
      47.0,
      22.0
     ],
     "text": "t s s",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "fmt_in",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      250,
      400,
      257.0,
      22.0
     ],
     "text": "sprintf symout %s/gramophone-in.wav",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "t_in",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      250,
      430,
      47.0,
      22.0
     ],
     "text": "t s s",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_write",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      430,
      460,
      131.0,
      22.0
     ],
     "text": "prepend writewave",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "reg_write",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      430,
      490,
      54.0,
      22.0
     ],
     "text": "zl reg",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "reg_folder",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      20,
      400,
      54.0,
      22.0
     ],
     "text": "zl reg",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "c_render",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      500,
      200,
      420.0,
      22.0
     ],
     "text": "4. Render: write the clip, wait for the file, then send /gramophone/render id clip preset out strength S reply_port 7771. The menu picks the preset; the dial sets strength."
    }
   },
   {
    "box": {
     "id": "render",
     "maxclass": "textbutton",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      500,
      250,
      54.0,
      22.0
     ],
     "text": "Render",
     "outlettype": [
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "strength",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      700,
      250,
      50.0,
      22.0
     ],
     "outlettype": [
      "",
      ""
     ],
     "minimum": 0.0,
     "maximum": 1.0
    }
   },
   {
    "box": {
     "id": "clip_strength",
     "maxclass": "newobj",
     "numinlets": 3,
     "numoutlets": 1,
     "patching_rect": [
      700,
      280,
      82.0,
      22.0
     ],
     "text": "clip 0. 1.",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "t_render",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      500,
      280,
      47.0,
      22.0
     ],
     "text": "t b b",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "delay",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      500,
      310,
      75.0,
      22.0
     ],
     "text": "delay 250",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "counter",
     "maxclass": "newobj",
     "numinlets": 3,
     "numoutlets": 4,
     "patching_rect": [
      500,
      340,
      131.0,
      22.0
     ],
     "text": "counter 1 1000000",
     "outlettype": [
      "",
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "t_id",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 4,
     "patching_rect": [
      500,
      370,
      75.0,
      22.0
     ],
     "text": "t i b i i",
     "outlettype": [
      "",
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "fmt_out",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      620,
      430,
      313.0,
      22.0
     ],
     "text": "sprintf symout %s/gramophone-render-%ld.wav",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "last_id",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      860,
      400,
      40.0,
      22.0
     ],
     "text": "int",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pack",
     "maxclass": "newobj",
     "numinlets": 8,
     "numoutlets": 1,
     "patching_rect": [
      500,
      460,
      334.0,
      22.0
     ],
     "text": "pack 0 in rain out strength 1. reply_port 7771",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_render",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      500,
      490,
      194.0,
      22.0
     ],
     "text": "prepend /gramophone/render",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "cancel",
     "maxclass": "textbutton",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      860,
      250,
      54.0,
      22.0
     ],
     "text": "Cancel",
     "outlettype": [
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_cancel",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      860,
      430,
      194.0,
      22.0
     ],
     "text": "prepend /gramophone/cancel",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "c_replies",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      540,
      420.0,
      22.0
     ],
     "text": "5. Replies arrive on port 7771: progress and errors show in the status line; on done the rendered file is loaded into buffer~ gramophone_out."
    }
   },
   {
    "box": {
     "id": "udp_in",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20,
      570,
      117.0,
      22.0
     ],
     "text": "udpreceive 7771",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "route",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 8,
     "patching_rect": [
      20,
      600,
      978.0,
      22.0
     ],
     "text": "route /gramophone/queued /gramophone/progress /gramophone/done /gramophone/error /gramophone/cancelled /gramophone/preset /gramophone/pong",
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "status",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      760,
      520.0,
      22.0
     ],
     "text": "status",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_queued",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      640,
      138.0,
      22.0
     ],
     "text": "prepend set queued",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "slice_progress",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      160,
      640,
      82.0,
      22.0
     ],
     "text": "zl slice 1",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "progress",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      160,
      670,
      50.0,
      22.0
     ],
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "slice_done",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      280,
      640,
      82.0,
      22.0
     ],
     "text": "zl slice 1",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "slice_path",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      280,
      670,
      82.0,
      22.0
     ],
     "text": "zl slice 1",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "t_done",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      280,
      700,
      47.0,
      22.0
     ],
     "text": "t s s",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_replace_out",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      400,
      730,
      117.0,
      22.0
     ],
     "text": "prepend replace",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "buf_out",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      400,
      790,
      166.0,
      22.0
     ],
     "text": "buffer~ gramophone_out",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_done",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      280,
      730,
      131.0,
      22.0
     ],
     "text": "prepend set done:",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_error",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560,
      640,
      138.0,
      22.0
     ],
     "text": "prepend set error:",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_cancelled",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      700,
      640,
      159.0,
      22.0
     ],
     "text": "prepend set cancelled",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "slice_preset",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      860,
      640,
      82.0,
      22.0
     ],
     "text": "zl slice 1",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_append",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      860,
      670,
      110.0,
      22.0
     ],
     "text": "prepend append",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "pre_pong",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      1000,
      640,
      138.0,
      22.0
     ],
     "text": "prepend set server",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "c_play",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      600,
      700,
      420.0,
      22.0
     ],
     "text": "6. Play the result. In Live, drag gramophone-render-N.wav from the work folder (add it to Places in the browser) into the arrangement."
    }
   },
   {
    "box": {
     "id": "msg_start",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      600,
      730,
      47.0,
      22.0
     ],
     "text": "start",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "msg_stop",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      660,
      730,
      40.0,
      22.0
     ],
     "text": "stop",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "play",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      600,
      760,
      152.0,
      22.0
     ],
     "text": "play~ gramophone_out",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "dac",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 0,
     "patching_rect": [
      600,
      790,
      54.0,
      22.0
     ],
     "text": "ezdac~"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "load",
      0
     ],
     "destination": [
      "t_load",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "refresh",
      0
     ],
     "destination": [
      "t_load",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_load",
      3
     ],
     "destination": [
      "msg_reply",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_reply",
      0
     ],
     "destination": [
      "udp_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_load",
      2
     ],
     "destination": [
      "msg_clear",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_clear",
      0
     ],
     "destination": [
      "menu",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_load",
      1
     ],
     "destination": [
      "msg_presets",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_presets",
      0
     ],
     "destination": [
      "udp_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "drop",
      0
     ],
     "destination": [
      "pre_replace_in",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_replace_in",
      0
     ],
     "destination": [
      "buf_in",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_read",
      0
     ],
     "destination": [
      "buf_in",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "adc",
      0
     ],
     "destination": [
      "record",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "rec_toggle",
      0
     ],
     "destination": [
      "record",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_load",
      0
     ],
     "destination": [
      "msg_folder",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "choose",
      0
     ],
     "destination": [
      "dialog",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "dialog",
      0
     ],
     "destination": [
      "conform",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "conform",
      0
     ],
     "destination": [
      "pre_set_folder",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_set_folder",
      0
     ],
     "destination": [
      "msg_folder",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "conform",
      0
     ],
     "destination": [
      "t_folder",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_folder",
      0
     ],
     "destination": [
      "t_folder",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_folder",
      1
     ],
     "destination": [
      "fmt_in",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "fmt_in",
      0
     ],
     "destination": [
      "t_in",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_in",
      1
     ],
     "destination": [
      "pre_write",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_write",
      0
     ],
     "destination": [
      "reg_write",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_folder",
      0
     ],
     "destination": [
      "reg_folder",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "menu",
      1
     ],
     "destination": [
      "pack",
      2
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "strength",
      0
     ],
     "destination": [
      "clip_strength",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "clip_strength",
      0
     ],
     "destination": [
      "pack",
      5
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_in",
      0
     ],
     "destination": [
      "pack",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "render",
      0
     ],
     "destination": [
      "t_render",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_render",
      1
     ],
     "destination": [
      "reg_write",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "reg_write",
      0
     ],
     "destination": [
      "buf_in",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_render",
      0
     ],
     "destination": [
      "delay",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "delay",
      0
     ],
     "destination": [
      "counter",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "counter",
      0
     ],
     "destination": [
      "t_id",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_id",
      3
     ],
     "destination": [
      "last_id",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_id",
      2
     ],
     "destination": [
      "fmt_out",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_id",
      1
     ],
     "destination": [
      "reg_folder",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "reg_folder",
      0
     ],
     "destination": [
      "fmt_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "fmt_out",
      0
     ],
     "destination": [
      "pack",
      3
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_id",
      0
     ],
     "destination": [
      "pack",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pack",
      0
     ],
     "destination": [
      "pre_render",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_render",
      0
     ],
     "destination": [
      "udp_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "cancel",
      0
     ],
     "destination": [
      "last_id",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "last_id",
      0
     ],
     "destination": [
      "pre_cancel",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_cancel",
      0
     ],
     "destination": [
      "udp_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "udp_in",
      0
     ],
     "destination": [
      "route",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      0
     ],
     "destination": [
      "pre_queued",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_queued",
      0
     ],
     "destination": [
      "status",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      1
     ],
     "destination": [
      "slice_progress",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "slice_progress",
      1
     ],
     "destination": [
      "progress",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      2
     ],
     "destination": [
      "slice_done",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "slice_done",
      1
     ],
     "destination": [
      "slice_path",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "slice_path",
      0
     ],
     "destination": [
      "t_done",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_done",
      1
     ],
     "destination": [
      "pre_replace_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_replace_out",
      0
     ],
     "destination": [
      "buf_out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t_done",
      0
     ],
     "destination": [
      "pre_done",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_done",
      0
     ],
     "destination": [
      "status",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      3
     ],
     "destination": [
      "pre_error",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_error",
      0
     ],
     "destination": [
      "status",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      4
     ],
     "destination": [
      "pre_cancelled",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_cancelled",
      0
     ],
     "destination": [
      "status",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      5
     ],
     "destination": [
      "slice_preset",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "slice_preset",
      0
     ],
     "destination": [
      "pre_append",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_append",
      0
     ],
     "destination": [
      "menu",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "route",
      6
     ],
     "destination": [
      "pre_pong",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "pre_pong",
      0
     ],
     "destination": [
      "status",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_start",
      0
     ],
     "destination": [
      "play",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "msg_stop",
      0
     ],
     "destination": [
      "play",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "play",
      0
     ],
     "destination": [
      "dac",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "play",
      0
     ],
     "destination": [
      "dac",
      1
     ]
    }
   }
  ]
 }
}
