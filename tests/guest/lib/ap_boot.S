/*
 * AP real-mode trampoline.  ap_trampoline_install() copies
 * [ap_tramp_start, ap_tramp_end) to AP_TRAMPOLINE_ADDR (0x8000, SIPI vector
 * 0x08) and fills in the data slots before each SIPI.  The AP goes
 * real mode -> 32-bit protected mode (-> long mode in 64-bit builds, using
 * the BSP's CR3), switches to its stack and calls tr_entry(tr_idx).
 */
#define TRAMP 0x8000
#define TR(x) ((x) - ap_tramp_start + TRAMP)

    .section .text
    .balign 16
    .globl ap_tramp_start, ap_tramp_end
    .globl ap_tr_entry, ap_tr_stack, ap_tr_idx, ap_tr_cr3
    .code16
ap_tramp_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl TR(tr_gdtr)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $TR(tr_pm32)

    .code32
tr_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl TR(ap_tr_stack), %esp
#ifdef __x86_64__
    movl %cr4, %eax
    orl $(1 << 5) | (1 << 9) | (1 << 10), %eax
    movl %eax, %cr4
    movl TR(ap_tr_cr3), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr
    movl %cr0, %eax
    andl $~(1 << 2), %eax
    orl $(1 << 31) | (1 << 1), %eax
    movl %eax, %cr0
    ljmp $0x18, $TR(tr_lm64)
    .code64
tr_lm64:
    movl TR(ap_tr_stack), %esp
    movl TR(ap_tr_idx), %edi
    movq TR(ap_tr_entry), %rax
    call *%rax
#else
    pushl TR(ap_tr_idx)
    movl TR(ap_tr_entry), %eax
    call *%eax
#endif
1:  cli
    hlt
    jmp 1b

    .balign 8
tr_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08 code32 */
    .quad 0x00cf92000000ffff        /* 0x10 data   */
    .quad 0x00af9a000000ffff        /* 0x18 code64 */
tr_gdtr:
    .word tr_gdtr - tr_gdt - 1
    .long TR(tr_gdt)
    .balign 8
ap_tr_entry: .quad 0
ap_tr_stack: .quad 0
ap_tr_idx:   .long 0
ap_tr_cr3:   .long 0
ap_tramp_end:
