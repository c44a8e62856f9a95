/* pvh: a tiny PVH guest (an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note and
 * no multiboot header).  Entered in 32-bit flat protected mode, paging off,
 * EBX = hvm_start_info: it checks the start info's magic (0x336ec578) and
 * that its command line pointer is set, prints "PASS: pvh" on COM1 (or a
 * FAIL line), then writes 0 to isa-debug-exit (0xf4). */
    .section .note.Xen, "a", @note
    .align 4
    .long 4                     /* namesz: "Xen\0" */
    .long 4                     /* descsz */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start

    .text
    .code32
    .globl pvh_start
pvh_start:
    cli
    mov $stack_top, %esp
    cmpl $0x336ec578, (%ebx)    /* hvm_start_info.magic */
    jne bad_magic
    cmpl $0, 24(%ebx)           /* cmdline_paddr (low half) */
    je no_cmdline
    mov $msg_pass, %esi
    call puts
    xor %eax, %eax
    outl %eax, $0xf4
1:  hlt
    jmp 1b
bad_magic:
    mov $msg_magic, %esi
    jmp fail
no_cmdline:
    mov $msg_cmdline, %esi
fail:
    call puts
    mov $1, %eax
    outl %eax, $0xf4
2:  hlt
    jmp 2b

/* puts: %esi -> COM1, polling LSR.THRE */
puts:
    mov $0x3fd, %dx
3:  inb %dx, %al
    test $0x20, %al
    jz 3b
    lodsb
    test %al, %al
    jz 4f
    mov $0x3f8, %dx
    outb %al, %dx
    mov $0x3fd, %dx
    jmp 3b
4:  ret

    .section .rodata
msg_pass:    .asciz "kvmpc guest test 'pvh'\r\nPASS: pvh\r\n"
msg_magic:   .asciz "FAIL: pvh: EBX does not point at an hvm_start_info (bad magic)\r\n"
msg_cmdline: .asciz "FAIL: pvh: hvm_start_info has no command line\r\n"

    .bss
    .align 16
    .space 4096
stack_top:
